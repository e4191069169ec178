class PluralConverter:
    """The object segment of shared CRM routes: companies, contacts or deals."""

    regex = "companies|contacts|deals"
    example = "companies"  # what URL-walking tests put in its place

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
