"""Forms of the product library and the tax rates library."""
