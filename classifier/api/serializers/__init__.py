"""Input parsing and output shapes of the API, one small module per kind; no business logic.

Output serializers never query: the selectors hand them prefetched rows and a context.
"""

from classifier.api.serializers.classify import (
    ClassificationSerializer,
    ClassifyResultSerializer,
    classify_result,
)
from classifier.api.serializers.fields import (
    ProbabilityField,
    QuerySerializer,
    StrictCharField,
    request_user,
)
from classifier.api.serializers.filters import MemeFilterSerializer, ModelVersionFilterSerializer
from classifier.api.serializers.memes import (
    AutoDecisionSerializer,
    ExplanationSerializer,
    MemeDetailSerializer,
    MemeSerializer,
    PredictionSerializer,
    RepostClusterSerializer,
    WordEffectSerializer,
)
from classifier.api.serializers.models import LabelSetSerializer, ModelVersionSerializer
from classifier.api.serializers.uploads import (
    ClassifyRequestSerializer,
    MemeUploadSerializer,
)

__all__ = [
    "AutoDecisionSerializer",
    "ClassificationSerializer",
    "ClassifyRequestSerializer",
    "ClassifyResultSerializer",
    "ExplanationSerializer",
    "LabelSetSerializer",
    "MemeDetailSerializer",
    "MemeFilterSerializer",
    "MemeSerializer",
    "MemeUploadSerializer",
    "ModelVersionFilterSerializer",
    "ModelVersionSerializer",
    "PredictionSerializer",
    "ProbabilityField",
    "QuerySerializer",
    "RepostClusterSerializer",
    "StrictCharField",
    "WordEffectSerializer",
    "classify_result",
    "request_user",
]
