from integrations.models.exact import (
    AccountType,
    ConnectionState,
    ExactConnection,
    ExactCountry,
    ExactLink,
    ExactSettings,
    InvoiceMode,
    LinkKind,
    ReferenceField,
    SyncLog,
    SyncScope,
)
from integrations.models.exports import BuyerEndpointSource, EndpointScheme, ExportSettings

__all__ = [
    "AccountType",
    "BuyerEndpointSource",
    "ConnectionState",
    "EndpointScheme",
    "ExactConnection",
    "ExactCountry",
    "ExactLink",
    "ExactSettings",
    "ExportSettings",
    "InvoiceMode",
    "LinkKind",
    "ReferenceField",
    "SyncLog",
    "SyncScope",
]
