"""Word lists the extraction rules consult, kept as data (compare spaCy's ``syntax_iterators``).

All entries are lower-case lemmas. Editing a list changes behaviour without touching rule code.
"""

# Nouns that frame the caption rather than name something in the image: "a picture of a dog".
# With an "of" complement, the complement takes their place; they never become concepts.
META_NOUNS = frozenset(
    """picture image photo photograph pic snapshot shot view closeup close-up close scene
    depiction photography frame""".split()
)

# Verbs that frame the caption: "a photo showing a dog". Not verb or relation concepts.
META_VERBS = frozenset("show depict feature portray capture display".split())

# Nouns that quantify their "of" complement: "a herd of elephants", "a group of people".
# The complement is the entity; the quantifier is not a concept.
QUANTIFIER_NOUNS = frozenset(
    """group bunch couple lot lots number variety herd flock pack crowd few handful plenty
    pair set collection pile stack row line bit bits piece pieces assortment array selection
    team school swarm cluster bundle kind type sort""".split()
)

# Head words that are never entities on their own.
NON_ENTITY_NOUNS = frozenset("thing things something someone somebody one ones other others".split())

# Nouns that act as attributes when they modify another noun ("a metal pole", "a red car" when
# the tagger calls the colour a noun). Materials and colours.
MATERIAL_NOUNS = frozenset(
    """metal wood glass plastic stone brick leather steel iron concrete marble paper cardboard
    wicker ceramic porcelain silver gold cotton denim wool straw bamboo rubber tile aluminum
    aluminium copper brass chrome granite clay fur""".split()
)
COLOUR_WORDS = frozenset(
    """black white red blue green yellow orange purple pink brown gray grey silver gold tan
    beige maroon navy teal turquoise""".split()
)
NOUN_ATTRIBUTES = MATERIAL_NOUNS | COLOUR_WORDS

# Relational nouns that form complex prepositions with their "of": "on top of", "in front of",
# "in the middle of", "at the end of".
COMPLEX_PREP_NOUNS = frozenset(
    "top front middle side back edge corner center centre bottom end rear inside outside edge".split()
)

# Adverbs/adjectives that form a two-word preposition with the following one: "next to".
TWO_WORD_PREPS = frozenset(
    {
        ("next", "to"),
        ("close", "to"),
        ("adjacent", "to"),
        ("across", "from"),
        ("away", "from"),
        ("out", "of"),
        ("ahead", "of"),
        ("in", "between"),
        ("along", "with"),
        ("together", "with"),
        ("up", "to"),
    }
)

# Relations whose arguments can be exchanged without changing the meaning. Coordination
# ("a cat and a dog") is symmetric too; that is decided from the parse (``cc``/``conj``).
SYMMETRIC_RELATIONS = frozenset(
    """next to|near|beside|besides|by|across from|close to|adjacent to|alongside|between|in between|
    among|amongst|opposite|with|along with|together with|and|or|meet|face|talk to|talk with|
    play with|chat with|touch""".replace("\n", "").split("|")
)
SYMMETRIC_RELATIONS = frozenset(s.strip() for s in SYMMETRIC_RELATIONS)

# Prepositions that do not express a spatial or action relation between two things.
NON_RELATION_PREPS = frozenset("of as than like for since during until about per".split())

# Subject pronouns that stand for the head of a relative clause: "a man who is riding".
RELATIVE_PRONOUNS = frozenset("who which that whom whose".split())

# Dependency labels of left modifiers that belong to an entity phrase.
ENTITY_LEFT_DEPS = frozenset(
    "det predet poss amod nummod compound quantmod nmod advmod npadvmod case punct".split()
)
# Left dependents of a noun that are attributes.
ATTRIBUTE_DEPS = frozenset(("amod",))
# Clausal dependents of a noun whose verb takes that noun as subject ("a man riding a horse").
NOUN_CLAUSE_DEPS = frozenset(("acl", "relcl"))
# Verb dependents naming the subject.
SUBJECT_DEPS = frozenset(("nsubj", "nsubjpass", "csubj"))
# Verb dependents naming the object.
OBJECT_DEPS = frozenset(("dobj", "attr", "oprd", "dative"))

# Lemmatiser slips of the small English model on caption vocabulary: surface (lower) -> lemma.
LEMMA_FIXES = {
    "riding": "ride",
    "rides": "ride",
    "glasses": "glasses",
    "skiing": "ski",
    "skis": "ski",
    "lying": "lie",
    "laying": "lay",
    "leaves": "leaf",
    "people": "people",
    "pants": "pants",
    "shorts": "shorts",
    "jeans": "jeans",
    "scissors": "scissors",
    "clothes": "clothes",
    "dishes": "dish",
    "boxes": "box",
    "buses": "bus",
}

# Number words, for counts. Values are used to keep counts and nouns in agreement downstream.
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "twenty": 20, "dozen": 12,
}
