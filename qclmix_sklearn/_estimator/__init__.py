"""The scikit-learn contract shared by QCLMixClassifier and the deep baselines: the base estimator,
input validation, shared parameters, devices, splits.
"""
