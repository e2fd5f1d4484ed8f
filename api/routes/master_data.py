"""Master data written by ops or an admin: customers, products with their price list, and
production lines. Reading them stays in ``api/routes/reference.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from api import master_data as service
from api.deps import SessionDep, require_roles
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from api.schemas import CustomerPublic, Page, PricePublic, ProductionLinePublic, ProductPublic
from api.schemas.master_data import (
    CODE_PATTERN,
    CustomerCreate,
    CustomerUpdate,
    PriceCreate,
    ProductCreate,
    ProductionLineCreate,
    ProductionLineUpdate,
    ProductUpdate,
)
from api.schemas.types import Id
from db.models import User
from domain.roles import MASTER_DATA_ROLES

router = APIRouter(tags=["master data"], responses=responses(Unauthorized, Forbidden))

Editor = Annotated[User, Depends(require_roles(*sorted(MASTER_DATA_ROLES)))]
CustomerId = Annotated[Id, Path(description="The customer's id.", examples=[1])]
SkuPath = Annotated[
    str,
    Path(
        pattern=CODE_PATTERN, max_length=64, description="The product's SKU.", examples=["PUMP-100"]
    ),
]
LinePath = Annotated[
    str,
    Path(pattern=CODE_PATTERN, max_length=32, description="The line's code.", examples=["LINE-1"]),
]
_DELETED = {"description": "Deleted: nothing referred to it."}


# --------------------------------------------------------------------------------- customers


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerPublic,
    responses=responses(InvalidRequest, Conflict),
    summary="Create a customer",
)
async def create_customer(
    body: CustomerCreate, user: Editor, session: SessionDep
) -> CustomerPublic:
    """Ops or admin. A customer with its code, name, credit limit, risk rating, contacts and
    the address its order notifications go to; active from the start. Audited. 409: the
    code is taken; 422: a field out of bounds."""
    return await service.create_customer(session, user, body)


@router.patch(
    "/customers/{customer_id}",
    response_model=CustomerPublic,
    responses=responses(InvalidRequest, NotFound),
    summary="Change or deactivate a customer",
)
async def update_customer(
    customer_id: CustomerId, body: CustomerUpdate, user: Editor, session: SessionDep
) -> CustomerPublic:
    """Ops or admin. Only the fields sent change; the code never does. `active: false`
    deactivates: new orders for it are rejected at validation, open ones go on. Audited.
    404: no such customer."""
    return await service.update_customer(session, user, customer_id, body)


@router.delete(
    "/customers/{customer_id}",
    status_code=204,
    response_class=Response,
    responses={204: _DELETED, **responses(NotFound, Conflict)},
    summary="Delete a customer nothing refers to",
)
async def delete_customer(customer_id: CustomerId, user: Editor, session: SessionDep) -> Response:
    """Ops or admin. Deletes a customer entered by mistake. 409 while any order or user
    refers to it (deactivate it instead); 404: no such customer. Audited."""
    await service.delete_customer(session, user, customer_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------- products


@router.post(
    "/products",
    status_code=201,
    response_model=ProductPublic,
    responses=responses(InvalidRequest, Conflict),
    summary="Create a product",
)
async def create_product(body: ProductCreate, user: Editor, session: SessionDep) -> ProductPublic:
    """Ops or admin. A product with its price from today (the first entry of its price
    list), category, reorder point, the lines that can make it and its routing steps with
    standard minutes per unit; no stock until goods are received. Audited. 409: the SKU is
    taken; 422: a field out of bounds, an unknown line, a step named twice."""
    return await service.create_product(session, user, body)


@router.patch(
    "/products/{sku}",
    response_model=ProductPublic,
    responses=responses(InvalidRequest, NotFound),
    summary="Change or deactivate a product",
)
async def update_product(
    sku: SkuPath, body: ProductUpdate, user: Editor, session: SessionDep
) -> ProductPublic:
    """Ops or admin. Only the fields sent change; `routing` replaces the steps for work
    booked from now on; prices change on the price list. `active: false` deactivates: new
    orders for it are rejected at validation, open ones go on. Audited. 404: no such
    product; 422: as on create."""
    return await service.update_product(session, user, sku, body)


@router.delete(
    "/products/{sku}",
    status_code=204,
    response_class=Response,
    responses={204: _DELETED, **responses(NotFound, Conflict)},
    summary="Delete a product nothing refers to",
)
async def delete_product(sku: SkuPath, user: Editor, session: SessionDep) -> Response:
    """Ops or admin. Deletes a product entered by mistake. 409 while any order line or stock
    movement names it (deactivate it instead); 404: no such product. Audited."""
    await service.delete_product(session, user, sku)
    return Response(status_code=204)


@router.get(
    "/products/{sku}/prices",
    response_model=Page[PricePublic],
    responses=responses(NotFound),
    summary="A product's dated price list",
)
async def price_list(sku: SkuPath, _: Editor, session: SessionDep) -> Page[PricePublic]:
    """Ops or admin. Every price of the product with the day it takes effect, newest first.
    An order pays the price in effect on the day (UTC) it was entered. 404: no such
    product."""
    return Page(data=await service.price_list(session, sku))


@router.post(
    "/products/{sku}/prices",
    status_code=201,
    response_model=PricePublic,
    responses=responses(InvalidRequest, NotFound, Conflict),
    summary="Add a price taking effect on a day",
)
async def add_price(
    sku: SkuPath, body: PriceCreate, user: Editor, session: SessionDep
) -> PricePublic:
    """Ops or admin. From `effective_from` (today or later, UTC) orders entered pay
    `unit_price`; orders entered earlier keep the price of their day. Audited. 404: no such
    product; 409: the product already has a price from that day; 422: a day that passed."""
    return await service.add_price(session, user, sku, body)


# -------------------------------------------------------------------------- production lines


@router.post(
    "/production-lines",
    status_code=201,
    response_model=ProductionLinePublic,
    responses=responses(InvalidRequest, Conflict),
    summary="Create a production line",
)
async def create_line(
    body: ProductionLineCreate, user: Editor, session: SessionDep
) -> ProductionLinePublic:
    """Ops or admin. A line with its capacity in units per hour, active from the start.
    Audited. 409: the code is taken; 422: a field out of bounds."""
    return await service.create_line(session, user, body)


@router.patch(
    "/production-lines/{code}",
    response_model=ProductionLinePublic,
    responses=responses(InvalidRequest, NotFound),
    summary="Change or deactivate a production line",
)
async def update_line(
    code: LinePath, body: ProductionLineUpdate, user: Editor, session: SessionDep
) -> ProductionLinePublic:
    """Ops or admin. Only the fields sent change. `active: false` deactivates: no new work
    is booked on it, work already booked goes on. Audited. 404: no such line."""
    return await service.update_line(session, user, code, body)


@router.delete(
    "/production-lines/{code}",
    status_code=204,
    response_class=Response,
    responses={204: _DELETED, **responses(NotFound, Conflict)},
    summary="Delete a production line nothing refers to",
)
async def delete_line(code: LinePath, user: Editor, session: SessionDep) -> Response:
    """Ops or admin. Deletes a line entered by mistake. 409 while a work order was booked on
    it or a product names it (deactivate it instead); 404: no such line. Audited."""
    await service.delete_line(session, user, code)
    return Response(status_code=204)
