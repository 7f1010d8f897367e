"""Classifier's REST API (/api/v1/): thin views over the classifier's services and selectors.

Moderation serves its own endpoints from moderation/api/ under the same namespace, and adds
its fields to the memes served here through classifier/extensions.py; this package never
imports moderation (classifier/tests/test_one_way.py).
"""
