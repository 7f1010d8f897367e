from rest_framework import pagination, serializers


class PageNumberPagination(pagination.PageNumberPagination):
    """?page=N&page_size=M: a page past the end answers 404, a malformed one 400.

    DRF quietly falls back to page 1 or the default size on values it cannot read; a
    client that asked for something else should hear that it did not get it.
    """

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator) -> str:
        # Only whole numbers (DRF's `last` would break the documented integer type).
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return "1"
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise serializers.ValidationError({"page": "A whole number from 1."})
        return raw

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError(
                {"page_size": f"A whole number from 1 to {self.max_page_size}."}
            )
        return size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
