"""Registrations of billing's quote and subscription features with the platform's and the CRM's registries (panels,
timeline, navigation, permissions, beat, handlers), one module per feature, called from BillingConfig.ready()."""
