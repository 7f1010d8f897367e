"""The REST API (/api/v1/): thin views over the classifier's and moderation's services.

It sits on top of both apps, like the site's URLconf does: classifier's models, services
and selectors never import moderation; only this package does, for corrections.
"""
