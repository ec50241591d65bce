"""The neighbors app's models, split by concern once one module grew past ~400 lines."""

from .audit import AppendOnlyError, AuditEntry
from .ledger import LedgerEntry
from .moderation import Hideable, SensitiveWord, Suspension
from .people import Block, GuardianConsent, Membership, Profile, RoleChange, SpokenLanguage, User
from .places import Community, Grid, Place, Street
from .privacy import (
    Consent,
    ContactDisclosure,
    ContactMethod,
    ContactShare,
    Partnership,
    mask_contact,
    mask_phone,
    phone_validator,
)

__all__ = [
    "AppendOnlyError",
    "AuditEntry",
    "Hideable",
    "Suspension",
    "Block",
    "Community",
    "Consent",
    "ContactDisclosure",
    "ContactMethod",
    "ContactShare",
    "GuardianConsent",
    "Grid",
    "LedgerEntry",
    "Membership",
    "Partnership",
    "Place",
    "Profile",
    "RoleChange",
    "SensitiveWord",
    "SpokenLanguage",
    "Street",
    "User",
    "mask_contact",
    "mask_phone",
    "phone_validator",
]
