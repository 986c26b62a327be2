"""Synthetic customer-behaviour data and its Kafka producer."""
