"""Word lists the extraction rules consult, kept as data (compare spaCy's ``syntax_iterators``).

All entries are lower-case lemmas. Editing a list changes behaviour without touching rule code.
This module is public: code outside :mod:`iccc.parsing` that needs a list (the number words of
counts, for one) imports it from here.

>>> NUMBER_WORDS["three"], "distance" in SCENE_NOUNS
(3, True)
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
    team school swarm cluster bundle kind type sort family slice patch strip block chunk
    portion part amount roll sheet loaf scoop body mound dozen clump tuft bale layer wedge trio gang
    half""".split()
)

# Adjectives of a quantifier noun that speak of the quantity as a whole, not of the things ("an
# entire row of chairs"); the others describe the things ("small patches of grass").
QUANTITY_ADJECTIVES = frozenset("entire whole single".split())

# Head words that are never entities on their own.
NON_ENTITY_NOUNS = frozenset("thing things something someone somebody one ones other others".split())

# Nouns that, as the object of a preposition, name a place in the view rather than a thing:
# "mountains in the distance". ("in the background" stays: the background is a region one can
# describe, and FACTUAL annotates it as an object.)
SCENE_NOUNS = frozenset(("distance",))

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
    "top front middle side back edge corner center centre bottom end rear inside outside left right".split()
)

# Nouns that name the inside or outside of their "of" complement: "the inside of a room" shows
# the room. Wherever they are not part of a complex preposition ("standing inside of a truck"),
# the complement takes their place, as for meta nouns.
INTERIOR_NOUNS = frozenset("inside outside interior exterior".split())

# Endings of adjectives the tagger sometimes calls nouns ("stands motionless/NN", "is
# shirtless/NN", "laying unconscious/NN"); a bare word with one of them is an adjective.
ADJECTIVE_ENDINGS = ("less", "ous")

# Endings of adjectives, which the repairs never take for a noun the tagger called an adjective
# ("dirty", "wooden", "careful"; a noun tagged so, "windscreen/JJ", "human/JJ", keeps none).
ADJECTIVE_SUFFIXES = ("less", "ous", "ful", "ive", "able", "ible", "ish", "y", "ed", "ic", "est", "er")

# Adjectives that stand after the noun or alone ("asleep on the couch", "ready for the game").
PREDICATIVE_ADJECTIVES = frozenset(
    """asleep awake alone alive afloat ablaze aboard afraid aware ready available visible present
    busy full empty open closed wet dry hot cold warm safe free glad sure unable able""".split()
)

# Words that stand after a noun and make it a small clause: "with the door open", "with arms
# outstretched" (no "without" of those), "his shirt open" (a parse may fold the word into the noun).
ABSOLUTE_PREDICATIVES = frozenset(
    "open closed shut apart wide raised outstretched extended spread crossed folded akimbo".split()
)

# Words that grade a colour right after them, forming one attribute with it: "light blue", "dark
# green", "bright red", "lime green", "dark colored" (FACTUAL writes them so); the colours (and
# "colored") they grade.
SHADE_WORDS = frozenset("light dark bright pale deep pastel neon lime navy royal".split())
SHADED_WORDS = COLOUR_WORDS | frozenset(("colored", "coloured"))

# Participles that form one adjective with the adjective before them: "an odd looking toilet",
# "a funny looking dog" (as "odd-looking" does); on their own they are no attribute.
LINKING_PARTICIPLES = frozenset(("looking",))

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
        ("inside", "of"),
        ("outside", "of"),
        ("off", "of"),
        ("in", "between"),
        ("along", "with"),
        ("together", "with"),
        ("up", "to"),
    }
)

# Relations whose arguments can be exchanged without changing the meaning. Coordination
# ("a cat and a dog") is symmetric too; that is decided from the parse (``cc``/``conj``).
# Not "with": "a cake with candles" is not "candles with a cake".
SYMMETRIC_RELATIONS = frozenset(
    """next to|near|beside|besides|by|across from|close to|adjacent to|alongside|between|in between|
    among|amongst|opposite|along with|together with|and|or|meet|face|talk to|talk with|
    play with|chat with|touch""".replace("\n", "").split("|")
)
SYMMETRIC_RELATIONS = frozenset(s.strip() for s in SYMMETRIC_RELATIONS)

# Prepositions that do not express a spatial or action relation between two things. ("of" does
# after a verb: "a floor made of tile".)
NON_RELATION_PREPS = frozenset("of as than like for since during until about per".split())

# Prepositions the small model tags as adjectives ("parked outside/JJ building"); as ``prep``
# they relate as any preposition.
ADJECTIVE_TAGGED_PREPS = frozenset("outside inside near opposite past behind beside".split())

# Prepositions that take another preposition's phrase: "from inside a car", "from behind a tree".
SOURCE_PREPS = frozenset(("from",))

# Verbs that "for" completes as a preposition of their own, relating their subject to its object
# ("a person waiting for the train", "a man reaching for a ball"); elsewhere "for" names a
# purpose or a beneficiary ("a machine for making donuts", "a cake for a party").
FOR_VERBS = frozenset(
    """wait reach look search aim head hunt fish shop beg ask grab dive jump lunge stretch run
    go pose compete fight line queue prepare""".split()
)

# Pronouns that stand for the head of a relative clause: "a man who is riding", "the ball that
# he holds".
RELATIVE_PRONOUNS = frozenset("who which that whom whose".split())

# Prepositions a relative clause may leave at its end, standing for the noun it modifies:
# "the sofa the man is sitting on", "the table the food is placed on".
STRANDED_PREPS = frozenset(
    """on in at by near under over above below behind beside into onto against through across
    along around inside underneath beneath with from to toward towards""".split()
)

# Relative adverbs: "the field where dogs play" -- the clause's verb does not take the noun as
# its object.
RELATIVE_ADVERBS = frozenset("where when why how".split())

# Common caption verbs that take no direct object, so that "the bench the man sits" is never read
# as (man, sits, bench) when the preposition is missing.
INTRANSITIVE_VERBS = frozenset(
    """sit stand lie lay walk run sleep rest wait fly swim go come stay smile laugh live graze
    perch lean hang float jump kneel crouch pose park grow""".split()
)

# Nouns that, as a bare noun phrase after a verb, say how or when rather than what ("walking this
# way", "heading home", "sitting side by side").
ADVERBIAL_NOUNS = frozenset("way home time day night today tonight side distance minute moment while".split())

# Prepositions of "X with Y": a participle after Y ("a man with a bag walking down the street")
# describes X, the carrier, not the accessory Y.
ACCESSORY_PREPS = frozenset(("with",))
# ... and, for participles, "in" too: "a girl in a bikini throwing a frisbee".
CARRIER_PREPS = frozenset(("with", "in"))

# Verbs whose object is worn: a participle hung on that object describes the wearer
# ("a man wearing red shoes walking across the street").
WEAR_VERBS = frozenset(("wear",))

# Body parts: a preposition with one after a verb's object places the object ("holding papers in
# hand", "an umbrella over head").
BODY_PARTS = frozenset("hand mouth head arm lap back shoulder neck face ear finger leg foot paw chest hip".split())

# Transitive verbs a relative clause without "that" may end with ("the coat the man is wearing").
HELD_VERBS = frozenset("wear hold carry ride".split())

# Verbs whose object a following preposition places ("the elephant has food in its mouth": the
# food is in the mouth, "a cat resting its paws on a keyboard").
HOLDING_VERBS = frozenset(("have", "rest"))

# Adverbs of direction or place that, right after a verb and with no object of their own, form
# a relation with it as particles do: "walking away", "sitting outside", "looking back". (Words
# the parser labels ``prt`` need no list: "sitting down", "standing up".)
DIRECTIONAL_ADVERBS = frozenset(
    """up down out off away back around about along ahead forward forwards backward backwards
    aside apart together outside inside outdoors indoors upstairs downstairs overhead nearby
    upright sideways home over in""".split()
)

# Words the part-of-speech repair never turns into nouns, even in an argument slot ("each other",
# "from above", "out front").
NOT_NOUNS = frozenset(
    """other others more most much many enough less least few front back middle next top bottom
    left right there here above below behind inside outside ahead away far near around all both
    each either neither such same several various now today tonight later before after up down
    off out over under else""".split()
)

# Adverbs the part-of-speech repair never turns into nouns, besides NOT_NOUNS and
# DIRECTIONAL_ADVERBS: the small model tags nouns as adverbs ("blue surfboard/RB", "fire
# hydrant/RB"), but these are adverbs ("a man alone", "a dog there too").
TRUE_ADVERBS = frozenset(
    """alone again also too very even just still only yet so then ever almost quite rather well
    instead downtown abroad anyway maybe perhaps otherwise indeed once twice close closely not
    never always often sometimes already soon together somewhere everywhere anywhere nowhere
    high low fast straight hard barefoot late early forth past""".split()
)

# Adjectives that end in "-ly" like adverbs ("a spindly tree", "a curly tail").
LY_ADJECTIVES = frozenset("spindly curly friendly lovely ugly elderly lonely lively hilly leafy oily silly".split())

# Nouns before a "can" that make it a container, not a modal ("trash can/MD in a cage").
CAN_COMPOUNDS = frozenset("trash garbage watering soda paint beer tin aluminum spray oil gas coke".split())

# Adjectives that name a part by its position; directly before a noun they belong to it, as in a
# compound: "front tire", "left hand", "back wall", "top shelf".
POSITION_WORDS = frozenset(
    "front back rear left right top bottom upper lower middle inner outer side".split()
)

# "-ing" words that, before a noun, name its purpose or kind rather than an ongoing action:
# "cutting board", "dining table", "parking lot". Words that are as often participles ("sleeping
# cat", "landing plane") are not here; their compounds are in FIXED_COMPOUNDS.
GERUND_MODIFIERS = frozenset(
    """cutting dining living parking washing ironing frying baking fishing sewing shopping
    drinking measuring boarding writing dressing mixing bathing camping hiking cooking serving
    training""".split()
)

# Modifier + noun pairs that name one kind of thing: the modifier is part of the noun.
FIXED_COMPOUNDS = frozenset(
    """hot dog|hot dogs|polar bear|polar bears|remote control|remote controls|french fries|
    french fry|french toast|high chair|double decker|grizzly bear|grizzly bears|hot tub|
    stuffed animal|stuffed animals|stop light|personal computer|flat screen|electric guitar|
    little league|first base|home plate|second base|third base|mobile phone|smart phone|
    swimming pool|swimming pools|sleeping bag|walking stick|waiting area|waiting room|
    skating rink|landing strip|landing gear|racing car|changing table|rolling pin|light pole|
    light poles|light post|light posts|light fixture|light fixtures|light bulb|light bulbs|
    light switch|orange juice""".replace("\n", "").split("|")
)
FIXED_COMPOUNDS = frozenset(s.strip() for s in FIXED_COMPOUNDS)

# Nouns ending in "-ing" that are not verb forms, so the part-of-speech repair leaves them alone.
ING_NOUNS = frozenset(
    """building buildings ceiling clothing railing awning siding icing frosting topping filling
    wedding bedding pudding stuffing seating lighting parking opening landing crossing drawing
    painting carving ending marking dressing housing flooring tiling molding moulding netting
    fencing paneling panelling string spring swing thing evening morning sibling duckling
    seedling lining stocking legging earring offering dumpling herring viking sapling
    clearing covering outing""".split()
)

# Prepositions that take gerunds ("used for racing"), so a bare "-ing" object of theirs stays a
# verb; after any other preposition it is a noun ("lamp near building").
GERUND_PREPS = frozenset("for by of after before while without about from like since upon besides instead".split())

# Pronouns that, as the object of a preposition, point back to the carrier of a "with"/"have"
# phrase: "a table with laptops on it", "the pot has flowers in it", "she has a plate in front of
# her".
RESUMPTIVE_PRONOUNS = frozenset(("it", "them", "him", "her"))

# Objects that stand for the other member of a coordinated pair: "a toilet and a sink next to
# each other".
RECIPROCALS = frozenset(("other", "eachother", "another"))

# Parts of speech a ``compound`` dependent may have and still belong to the noun span:
# "fire hydrant", "hot dog" (ADJ), "cutting board" (VERB), "3D glasses" (NUM).
COMPOUND_POS = frozenset(("NOUN", "PROPN", "ADJ", "VERB", "NUM", "X"))

# Adjectives and determiners-in-adjective-slots that are never attributes on their own.
ATTRIBUTE_STOP = frozenset(
    """other many several few various different same such own more most much lot certain
    numerous multiple whole entire top front next only""".split()
)

# Adverbs that name a state of a thing when predicated of it: "the toilet seat is down", "the
# lights are on", "a toilet with the seat up" (attributes; see rules._attributes).
STATE_ADVERBS = frozenset("up down on off out open shut outside inside upright".split())

# Adjectives that grade another adjective rather than the noun ("light blue", "dark green"):
# never lifted to the noun when the parser hangs them on that adjective.
DEGREE_ADJECTIVES = frozenset(
    "light dark bright pale deep pastel very really extremely fairly pretty quite".split()
)

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
    "surfing": "surf",
    "skateboarding": "skateboard",
    "snowboarding": "snowboard",
    "kiteboarding": "kiteboard",
    "wakeboarding": "wakeboard",
    "parasailing": "parasail",
    "sledding": "sled",
    "biking": "bike",
    "skating": "skate",
    "grazing": "graze",
    "jogging": "jog",
    "bathing": "bathe",
    "t-shirts": "t-shirt",
    "goggles": "goggles",
    "sunglasses": "sunglasses",
    "trousers": "trousers",
    "binoculars": "binoculars",
    "tongs": "tongs",
    "news": "news",
    "tennis": "tennis",
    "seated": "sit",
    "shining": "shine",
    "texting": "text",
}

# Number words, for counts. Values are used to keep counts and nouns in agreement downstream.
# Digits are counts too ("3 dogs"); "a single"/"an single" (an article and "single" before the noun)
# is one count phrase worth 1, like "one".
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "dozen": 12, "a single": 1, "an single": 1,
}

__all__ = [
    "ABSOLUTE_PREDICATIVES",
    "ACCESSORY_PREPS",
    "ADJECTIVE_ENDINGS",
    "ADJECTIVE_SUFFIXES",
    "ADJECTIVE_TAGGED_PREPS",
    "ADVERBIAL_NOUNS",
    "ATTRIBUTE_DEPS",
    "ATTRIBUTE_STOP",
    "BODY_PARTS",
    "CAN_COMPOUNDS",
    "CARRIER_PREPS",
    "COLOUR_WORDS",
    "COMPLEX_PREP_NOUNS",
    "COMPOUND_POS",
    "DEGREE_ADJECTIVES",
    "DIRECTIONAL_ADVERBS",
    "ENTITY_LEFT_DEPS",
    "FIXED_COMPOUNDS",
    "FOR_VERBS",
    "GERUND_MODIFIERS",
    "GERUND_PREPS",
    "HELD_VERBS",
    "HOLDING_VERBS",
    "ING_NOUNS",
    "INTERIOR_NOUNS",
    "INTRANSITIVE_VERBS",
    "LEMMA_FIXES",
    "LINKING_PARTICIPLES",
    "LY_ADJECTIVES",
    "MATERIAL_NOUNS",
    "META_NOUNS",
    "META_VERBS",
    "NON_ENTITY_NOUNS",
    "NON_RELATION_PREPS",
    "NOT_NOUNS",
    "NOUN_ATTRIBUTES",
    "NOUN_CLAUSE_DEPS",
    "NUMBER_WORDS",
    "OBJECT_DEPS",
    "POSITION_WORDS",
    "PREDICATIVE_ADJECTIVES",
    "QUANTIFIER_NOUNS",
    "QUANTITY_ADJECTIVES",
    "RECIPROCALS",
    "RELATIVE_ADVERBS",
    "RELATIVE_PRONOUNS",
    "RESUMPTIVE_PRONOUNS",
    "SCENE_NOUNS",
    "SHADED_WORDS",
    "SHADE_WORDS",
    "SOURCE_PREPS",
    "STATE_ADVERBS",
    "STRANDED_PREPS",
    "SUBJECT_DEPS",
    "SYMMETRIC_RELATIONS",
    "TRUE_ADVERBS",
    "TWO_WORD_PREPS",
    "WEAR_VERBS",
]
