"""Input preprocessing inside fit: mixed-type encoding and input scaling."""
