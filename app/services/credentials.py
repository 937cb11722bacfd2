"""Shared accounts' logins, encrypted at rest with Fernet (key from CREDENTIALS_KEY)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken


@dataclass(frozen=True)
class Credentials:
    login: str
    password: str


def encrypt(key: str, credentials: Credentials) -> str:
    payload = f"{credentials.login}\n{credentials.password}".encode()
    return Fernet(key.encode()).encrypt(payload).decode()


def decrypt(key: str, token: str) -> Credentials:
    try:
        login, _, password = Fernet(key.encode()).decrypt(token.encode()).decode().partition("\n")
    except InvalidToken as exc:
        raise ValueError("credentials cannot be read with the configured CREDENTIALS_KEY") from exc
    return Credentials(login=login, password=password)
