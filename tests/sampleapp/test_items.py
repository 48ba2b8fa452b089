"""Items: CRUD for the owner, invisibility for everyone else, validation, pagination."""

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from api.models import Item
from tests.sampleapp.conftest import ClientFactory

LIST_URL = "/api/items/"
ITEM_FIELDS = {"id", "title", "body", "done", "created_at"}


def detail_url(pk: int) -> str:
    return f"/api/items/{pk}/"


@pytest.fixture
def foreign_item(other_user: AbstractBaseUser) -> Item:
    return Item.objects.create(owner=other_user, title="bob's", body="private")


def test_create_sets_owner_and_defaults(auth_client: APIClient, user: AbstractBaseUser) -> None:
    response = auth_client.post(LIST_URL, {"title": "write tests"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ITEM_FIELDS
    assert body["title"] == "write tests"
    assert body["body"] == ""
    assert body["done"] is False
    assert Item.objects.get(pk=body["id"]).owner == user


def test_create_ignores_an_owner_in_the_body(
    auth_client: APIClient, user: AbstractBaseUser, other_user: AbstractBaseUser
) -> None:
    response = auth_client.post(LIST_URL, {"title": "mine", "owner": other_user.pk}, format="json")

    assert response.status_code == 201
    item = Item.objects.get(pk=response.json()["id"])
    assert item.owner == user


def test_list_shows_only_own_items_in_id_order(
    auth_client: APIClient, user: AbstractBaseUser, foreign_item: Item
) -> None:
    created = [Item.objects.create(owner=user, title=f"t{i}") for i in range(3)]

    response = auth_client.get(LIST_URL)

    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3
    assert [item["id"] for item in page["results"]] == [item.pk for item in created]
    assert all(set(item) == ITEM_FIELDS for item in page["results"])


def test_list_is_paginated_by_20(auth_client: APIClient, user: AbstractBaseUser) -> None:
    Item.objects.bulk_create([Item(owner=user, title=f"t{i}") for i in range(25)])

    first = auth_client.get(LIST_URL).json()
    second = auth_client.get(LIST_URL, {"page": 2}).json()

    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["next"] is not None
    assert first["previous"] is None
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert auth_client.get(LIST_URL, {"page": 3}).status_code == 404


def test_get_patch_put_delete_own_item(auth_client: APIClient, user: AbstractBaseUser) -> None:
    item = Item.objects.create(owner=user, title="draft", body="b")
    url = detail_url(item.pk)

    got = auth_client.get(url)
    assert got.status_code == 200
    assert got.json()["title"] == "draft"

    patched = auth_client.patch(url, {"done": True}, format="json")
    assert patched.status_code == 200
    assert patched.json()["done"] is True
    assert patched.json()["title"] == "draft"

    put = auth_client.put(url, {"title": "final", "body": "", "done": False}, format="json")
    assert put.status_code == 200
    item.refresh_from_db()
    assert (item.title, item.body, item.done) == ("final", "", False)

    assert auth_client.delete(url).status_code == 204
    assert not Item.objects.filter(pk=item.pk).exists()
    assert auth_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("get", None),
        ("patch", {"title": "hijacked"}),
        ("put", {"title": "hijacked", "body": "", "done": True}),
        ("delete", None),
    ],
)
def test_another_users_item_is_404(
    auth_client: APIClient, foreign_item: Item, method: str, payload: dict[str, object] | None
) -> None:
    response = getattr(auth_client, method)(detail_url(foreign_item.pk), payload, format="json")

    assert response.status_code == 404
    foreign_item.refresh_from_db()
    assert foreign_item.title == "bob's"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "This field is required."),
        ({"title": ""}, "This field may not be blank."),
        ({"title": "x" * 201}, "Ensure this field has no more than 200 characters."),
        ({"title": None}, "This field may not be null."),
    ],
)
def test_create_with_bad_title_is_400_with_field_errors(
    auth_client: APIClient, payload: dict[str, object], message: str
) -> None:
    response = auth_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {"title": [message]}
    assert Item.objects.count() == 0


def test_title_of_exactly_200_characters_is_accepted(auth_client: APIClient) -> None:
    response = auth_client.post(LIST_URL, {"title": "x" * 200}, format="json")

    assert response.status_code == 201


def test_put_without_title_and_bad_done_are_400(
    auth_client: APIClient, user: AbstractBaseUser
) -> None:
    item = Item.objects.create(owner=user, title="keep")

    put = auth_client.put(detail_url(item.pk), {"done": True}, format="json")
    patch = auth_client.patch(detail_url(item.pk), {"done": "maybe"}, format="json")

    assert put.status_code == 400
    assert put.json() == {"title": ["This field is required."]}
    assert patch.status_code == 400
    assert set(patch.json()) == {"done"}


def test_items_are_per_user(
    user: AbstractBaseUser, other_user: AbstractBaseUser, client_for: ClientFactory
) -> None:
    client_for(user).post(LIST_URL, {"title": "alice's"}, format="json")

    assert client_for(other_user).get(LIST_URL).json()["count"] == 0
    assert client_for(user).get(LIST_URL).json()["count"] == 1
