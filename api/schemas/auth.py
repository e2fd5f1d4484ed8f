"""Signing in and who the caller is."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.types import SingleLine


class Token(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzYWxlczEi"
                    "LCJpYXQiOjE3NjQ1OTgwMDAsImV4cCI6MTc2NDYwMTYwMH0.c2lnbmF0dXJl",
                    "token_type": "bearer",
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    token_type: Literal["bearer"] = "bearer"


class UserPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "username": "sales1",
                    "full_name": "Sally Sales",
                    "roles": ["sales"],
                    "customer_id": None,
                },
                {
                    "username": "acme",
                    "full_name": "Acme purchasing",
                    "roles": ["customer"],
                    "customer_id": 1,
                },
            ]
        },
    )

    username: str
    full_name: str
    roles: list[str]
    customer_id: int | None


class SignInForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, each field one clean line of bounded length: the form is
    the one input anybody may send without signing in."""

    def __init__(
        self,
        username: Annotated[SingleLine, Form(max_length=64, examples=["sales1"])],
        password: Annotated[
            SingleLine,
            Form(max_length=256, examples=["demo-pass"], json_schema_extra={"format": "password"}),
        ],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[SingleLine, Form(max_length=500)] = "",
        client_id: Annotated[SingleLine | None, Form(max_length=200)] = None,
        client_secret: Annotated[SingleLine | None, Form(max_length=200)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
