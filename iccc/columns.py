"""Column names used in datasets produced by iccc, defined once."""

CAPTION = "caption"
CONCEPTS = "concepts"
PARSE_STATUS = "parse_status"
IMAGE = "image"
IMAGE_ID = "image_id"
