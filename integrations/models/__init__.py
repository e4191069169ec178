from integrations.models.exports import BuyerEndpointSource, EndpointScheme, ExportSettings

__all__ = ["BuyerEndpointSource", "EndpointScheme", "ExportSettings"]
