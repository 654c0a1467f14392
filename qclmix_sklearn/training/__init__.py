"""The training loop's parts: the skorch net, its batches and callbacks, kNN mixup, and the stacked
training of ensemble members.
"""
