"""Scale drivers, one module per wire protocol."""
