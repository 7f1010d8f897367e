"""The learning loop: labelled data in, new model versions out, safely.

imports: labelled datasets become memes with human labels (source "import").
retrain: human labels -> a new version through ml, gated against the active one.
versions: promote, roll back, reclassify.
"""
