"""Calibrated automatic decisions: a prediction confident enough stands without a human.

Where each part lives (dependencies flow moderation -> classifier -> ml):

- the policy, on LabelSet (classifier/models.py, `auto_*` fields: the target precision a
  moderator sets, the audit share, the derived threshold and the version it applies to);
- the AutoDecision row: models.py here (registered through classifier/models.py);
- applying the threshold to a new prediction, and a moderator reverting a decision:
  services.py here; a prediction's decision and the memes decisions settle: selectors.py;
- the threshold maths (the lowest cut whose precision reaches the target, Wilson
  intervals): ml/decisions.py, plain Python;
- deriving the threshold from predictions moderators checked, the policy form's service
  and the audits' precision estimate: moderation/autodecisions.py, because they read
  human labels (moderation's LabelCorrection), which classifier never imports.
"""
