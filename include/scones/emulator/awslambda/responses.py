"""``LocalLambdaResponse``: moto's Lambda API handlers, with Invoke reading its Qualifier.

moto's ``LambdaResponse.invoke`` asks for ``"qualifier"`` in lower case; boto3 sends the
``Qualifier`` query parameter, so moto would run ``$LATEST`` whatever version was asked for,
and take a ``"qualifier"`` key of the event payload as one. Only that lookup changes.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.responses import LambdaResponse


class LocalLambdaResponse(LambdaResponse):
    def _get_param(self, param_name: str, if_none: Any = None) -> Any:
        if param_name == "qualifier":  # only Invoke asks in lower case
            return self.querystring.get("Qualifier", [if_none])[0]
        return super()._get_param(param_name, if_none)
