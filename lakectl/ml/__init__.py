"""Sentiment model: review-text corpora, featurizers, training, the MLflow registry gate and scorers.

Importing this package is light; pyspark, mlflow and scikit-learn are imported inside functions.
"""
