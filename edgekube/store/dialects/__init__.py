"""SQL for each supported database. Only modules in this package speak SQL."""
