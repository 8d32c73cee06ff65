"""Column names used in datasets produced by iccc, defined once.

:func:`iccc.dataset.load_captions` gives every source the standard columns :data:`CAPTION`,
:data:`IMAGE` and :data:`IMAGE_ID`; parsing adds :data:`CONCEPTS` and :data:`PARSE_STATUS`.
"""

#: The caption text (any type as read: a stray number or list gets a parse status, not an error).
CAPTION = "caption"
#: The image: a path string (joined with ``image_root``), or the source's own image feature.
IMAGE = "image"
#: The group id of captions of one image (the sibling-caption guard of :func:`iccc.corrupt`).
IMAGE_ID = "image_id"
#: The concepts of the parsed caption (:meth:`iccc.Concept.to_dict` of each).
CONCEPTS = "concepts"
#: Why a caption has no concepts, or ``"ok"`` (:data:`iccc.STATUSES`).
PARSE_STATUS = "parse_status"
#: Why :func:`iccc.corrupt` left a row without a corruption, or ``"ok"``.
CORRUPT_STATUS = "corrupt_status"

# What a build adds (:func:`iccc.build_dataset`).
#: The instruction given to the model.
PROMPT = "prompt"
#: What the model should answer: the caption, or the correction.
TARGET = "target"
#: ``"correction"`` or ``"caption"``.
TASK = "task"
#: The caption as the model sees it in a correction sample, and how it was corrupted.
CORRUPTED_CAPTION = "corrupted_caption"
OPERATION = "operation"
CONCEPT_KIND = "concept_kind"
#: ``"ok"``, or why the row is not what its draw asked for.
BUILD_STATUS = "build_status"
#: The row ids of an on-the-fly build (hidden from its rows).
ROW = "_iccc_row"
