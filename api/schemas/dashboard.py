"""What the dashboard page reads about the deployment it runs in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DashboardConfig(BaseModel):
    """What the page needs to know about this deployment."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "temporal_ui_url": "http://localhost:8233",
                    "namespace": "default",
                    "refresh_seconds": 15,
                }
            ]
        }
    )

    temporal_ui_url: str = Field(description="Base URL of the Temporal Web UI.")
    namespace: str = Field(description="Temporal namespace the order workflows run in.")
    refresh_seconds: int = Field(description="How often the page reloads its figures.")
