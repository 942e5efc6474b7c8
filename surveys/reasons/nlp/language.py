"""Text normalisation, tokens and language detection for survey answers in sv, nb and en.

Pure Python and offline. The detector is a small logistic regression over character
n-grams, hand-written lists of common words per language and spelling patterns; its weights
are trained from the corpus together with the reason model and stored in the same file.
"""

import math
import re
import unicodedata
from functools import lru_cache
from itertools import compress
from typing import NamedTuple

from surveys.reasons.nlp.labels import LANGUAGES

# A word: letters and digits, with inner apostrophes ("didn't"); or a currency or percent sign.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[$€£%]")
_WORD_CHARACTER = re.compile(r"[^\W_]")
_LETTER = re.compile(r"[^\W\d_]")
_FOLD_TABLE = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "œ": "oe", "’": "", "'": ""})


class Token(NamedTuple):
    """One word of a text: where it stands, as written, lower-cased and folded."""

    start: int
    end: int
    surface: str
    lower: str
    folded: str


def has_words(text: str) -> bool:
    """False for empty, blank and punctuation-only text ("$$$", "-", "?!")."""
    return _WORD_CHARACTER.search(text) is not None


_REPEATS = re.compile(r"([^\W\d_])\1{2,}")


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower-case a word and drop its diacritics, as people do on keyboards without å/ä/ö/ø/æ
    ("hör" -> "hor", "oppfølging" -> "oppfolging", "ærlig" -> "aerlig"); a letter typed
    three times or more counts once ("dyyyrt" -> "dyrt")."""
    folded = word.lower().translate(_FOLD_TABLE)
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _REPEATS.sub(r"\1", folded)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    append = tokens.append
    new = tuple.__new__  # Token(...) without its Python-level __new__: this runs per word
    for match in _TOKEN.finditer(text):
        surface = match.group()
        lower, folded = _forms(surface)
        start = match.start()
        append(new(Token, (start, start + len(surface), surface, lower, folded)))
    return tokens


@lru_cache(maxsize=65536)
def _forms(surface: str) -> tuple[str, str]:
    return surface.lower().replace("’", "'"), fold(surface)


# Common words of each language, lower case with diacritics; folded spellings ("hor",
# "nagon", "oppfolging") are added below. A word on one list only gives the feature
# "only:<language>", a word on several "list:<language>" for each: training decides how much
# they count. The words on one list only are also training texts of their own.
_SWEDISH = """
och att det som en ett är var inte jag vi ni de den dem dom har hade med för på av till från i
om men så kan kunde ska skulle vill ville blev bli blir blivit också även när sedan sen efter
innan bara mycket mer mest någon något några ingen inget inga ingenting aldrig alltid hela
tiden hos er era ert oss vår vårt våra mig dig sig sin sitt sina här där då nu än ändå eller
utan under över mellan varje vad vem hur varför vilken vilket redan fortfarande helt enkelt
väl ju nog dock tyvärr kanske gång gånger år dag dagar vecka veckor tack dålig dåligt sämre
bättre fick får få gick går gör gjorde göra kom kommer tog tar sa säger finns fanns hör
hörde känns kändes kände ringa ringde ringer mejl mejlet svarar svarade tillbaka själva själv
egen eget egna andra annan annat nya nytt stora liten lite lilla företag företaget företagets
leverantör leverantören leverantörer kund kunden kunder avtal avtalet avtalen priset pris
priser dyrt dyr dyra billigt billigare billigast svårt lätt någonsin igen heller samma hälften
jämfört förhållande eftersom därför trots medan mot vid åt ut upp ner fram bort kvar honom
henne hon tre två fyra fem första sista senaste förra förut inom utanför varken nej väldigt
jätte riktigt faktiskt verkligen ganska brydde bry funkar fungerar fungerade saknar saknade
hittade använder behöver behövde varit haft gått kommit tagit sagt kunnat måste borde tjänsten
tjänst kontakt kontaktperson kundtjänst kundansvarig kundansvarige säljare leveranser
leveransen leveranserna produkten systemet appen uppföljning återkoppling kvalitet kvaliteten
funktioner funktionerna tjänster pengar pengarna kostnad kostnaden kostnader kostar avgift
avgiften fakturan fakturor höjdes höjning prishöjning förnyelsen uppköpta konkurs flyttade
slutade stängde lades dessutom ibland ofta aldrig äntligen också väntat svar ingenstans
nöjda nöjd missnöjda ungefär ganska sådan sådant sådana inget några allt alla varandra
hela sig själv vecka månad månader månaden timme timmar vara sade tycker tycks veta förstå
fråga frågor frågade svara skicka skickade köpa köpte sälja sålde betala betalade använda
använde hjälpa hjälpte företaget företagets snabb snabba snabbt långsam långsamt svår lätta
gammal gammalt genom trots längre alls råge huvudkontoret huvudkontor chef chefen anställda
verksamhet verksamheten affär affären försäljning inköp inköpet höjning höjningen sänkning
erbjudande erbjudandet upphandling upphandlingen beställning beställningen beställningar
krånglig krångligt trasig trasigt sönder hej okej kul jättebra toppen grym grymt usel uselt
skit sjukt tyvärr togs gjordes köptes lades hette visste kändes tycktes själva vilka vilken
dessa detta därefter därmed dock någonting ingenstans kunna kunnat skall blivit kommit
varken även mitt mina dina din ditt hennes deras vårat sån sånt sånna ju
"""
_NORWEGIAN = """
og å det som en et er var ikke jeg vi dere de den dem har hadde med for på av til fra om men i
så kan kunne skal skulle vil ville ble bli blir blitt også når siden etter før bare mye mer
mest noen noe ingen ingenting aldri alltid hele tiden hos deres oss vår vårt våre meg deg seg
sin sitt sine her der da nå enn likevel eller uten under over mellom hver hvert hva hvem
hvordan hvorfor hvilken hvilket allerede fortsatt helt enkelt vel jo nok dessverre kanskje
gang ganger år dag dager uke uker takk dårlig dårligere bedre fikk får få gikk går gjør gjorde
gjøre kom kommer tok tar sa sier finnes fantes hører hørte føles føltes følte ringe ringte
ringer svarer svarte tilbake selv egen eget egne andre annen annet nye nytt store liten litt
lille bedrift bedriften firma firmaet leverandør leverandøren leverandører kunde kunden kunder
avtale avtalen avtalene prisen pris priser dyrt dyr dyre billig billigere billigst vanskelig
lett noensinne igjen heller samme halvparten sammenlignet forhold fordi derfor mens mot ved ut
opp ned inn frem fram bort ham henne hun tre to fire fem første siste forrige innen utenfor
verken nei veldig kjempe virkelig faktisk ganske brydde bry fungerer fungerte mangler manglet
fant bruker trenger trengte vært hatt kommet tatt sagt måtte burde gidder gadd hvis sånn slik
engang tjenesten tjeneste kontakt kontaktperson kundeservice kundeansvarlig selger selgeren
leveranser leveransen leveransene produktet systemet appen oppfølging tilbakemelding kvalitet
kvaliteten funksjoner funksjonene tjenester penger pengene kostnad kostnaden kostnader koster
avgift avgiften gebyr gebyrer fakturaen fakturaer økte økning prisøkning fornyelsen oppkjøpt
konkurs flyttet sluttet stengte ble dessuten iblant ofte endelig ventet svar fornøyd fornøyde
misfornøyd omtrent sånt slike noe alle hverandre måned måneder timer time bare være
synes vite forstå spørre spørsmål spurte svare sende sendte kjøpe kjøpte selge solgte betale
betalte bruke brukte hjelpe hjalp bedriften bedriftens selskap selskapet rask raske raskt
treg tregt tregere vanskelig lette gammel gammelt gjennom tross lenger hovedkontoret
hovedkontor sjef sjefen ansatte virksomhet virksomheten forretning salg salget innkjøp økning
økningen reduksjon tilbudet anbud anbudet bestilling bestillingen bestillinger tungvint
ødelagt stykker hei gøy kjempebra topp rå elendig drit sykt dessverre ble tatt gjort kjøpt
lagt het visste føltes virket selve hvilke hvilken disse dette deretter dermed likevel noe
noensteds kunnet skal kommet verken heller mitt mine dine din ditt hennes deres vårt sånn jo
prising prisingen fornøyd fornøyde gikk fikk tok trenger trengte mange mye hvordan hvor hva
"""
_ENGLISH = """
the a an and or but to of in on at for with from by about is are was were be been being am
it its it's this that these those there their they them we us our you your i me my he she
his her not no never nobody nothing anyone anybody someone anything always just only very too
so much more most have has had do does did didn't don't doesn't can can't could would should
will won't get got what who how why when where which after before since than then every each
all any some one two three again also still even ever because if up out over into here went
came took made make said felt feel feels called answer answered back anymore honestly really
whose while though although however year years month months week weeks day days time thing
things people team company same other another new good great bad poor well better worse nice
we're we've you're they're isn't wasn't weren't couldn't wouldn't haven't hasn't hadn't
there's that's what's it'll we'll i'm i've let us such enough quite rather pretty way lot lots
price pricing prices expensive cheap cheaper cost costs money fee fees
customer customers account manager nobody anyone product quality features software system
reliable issues issue problem problems delivery deliveries invoice invoices contract renewal
followed follow call calls reply replies email emails phone slow fast works working worked
acquired merger bankrupt moved closed ended project group owner reason reasons left leave
leaving stopped switch switched competitor competitors vendor supplier suppliers
"""


def _word_set(words: str) -> frozenset[str]:
    listed = set(words.split())
    return frozenset(listed | {fold(word) for word in listed})


_WORDS: dict[str, frozenset[str]] = {
    "sv": _word_set(_SWEDISH),
    "nb": _word_set(_NORWEGIAN),
    "en": _word_set(_ENGLISH),
}
# Words on exactly one list.
_ONLY: dict[str, frozenset[str]] = {
    language: words.difference(*(other for name, other in _WORDS.items() if name != language))
    for language, words in _WORDS.items()
}


def distinctive_words() -> list[tuple[str, str]]:
    """(language, word) for each listed word that only one language uses, sorted."""
    return sorted((language, word) for language, words in _ONLY.items() for word in words)


# Spelling patterns typical of one language (searched in the lower-cased word).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sv", re.compile(r"[äö]")),
    ("nb", re.compile(r"[æø]")),
    ("sv", re.compile(r"(?:erna|arna|orna|tion|tionen|tioner|ck|ckt|ade|ades)$")),
    ("nb", re.compile(r"(?:sjon|sjonen|sjoner|ene|kk|heten)$")),
    ("nb", re.compile(r"^(?:hv|kj|skj)")),
    ("en", re.compile(r"w|th|ou|ea|ee|oo|(?:ly|ies|ed)$")),
    ("en", re.compile(r"^[a-z]+(?:ing|ment|ness|ful)$")),
)
_STRIP_TABLE = str.maketrans(
    {
        "å": "a",
        "ä": "a",
        "ö": "o",
        "ø": "o",
        "æ": "ae",
        "Å": "A",
        "Ä": "A",
        "Ö": "O",
        "Ø": "O",
        "Æ": "Ae",
    }
)


def strip_diacritics(text: str) -> str:
    """The text as typed without å/ä/ö/ø/æ (case and punctuation kept)."""
    return text.translate(_STRIP_TABLE)


@lru_cache(maxsize=65536)
def _word_features(word: str) -> tuple[str, ...]:
    """Language features of one lower-cased word: the word, its character 1-4-grams, the
    word lists it is on and the spelling patterns it shows."""
    names = ["w:" + word]
    padded = "<" + word + ">"
    for size in (1, 2, 3, 4):
        names.extend("c:" + padded[i : i + size] for i in range(len(padded) - size + 1))
    folded = fold(word)
    for language in LANGUAGES:
        if word in _ONLY[language] or (word == folded and folded in _ONLY[language]):
            names.append("only:" + language)
        elif word in _WORDS[language] or folded in _WORDS[language]:
            names.append("list:" + language)
    for language, pattern in _PATTERNS:
        if pattern.search(word):
            names.append("p:" + language)
    return tuple(names)


def _letter_words(tokens: list[Token]) -> list[str]:
    words = [token.lower for token in tokens]
    return list(compress(words, map(_has_letter, words)))


@lru_cache(maxsize=65536)
def _has_letter(word: str) -> bool:
    return _LETTER.search(word) is not None


def language_features(text: str) -> dict[str, float]:
    """Feature values of a text for the language model: counts, divided by the root of the
    sum of each word's squared count norm (so one word's share can be cached)."""
    counts: dict[str, float] = {}
    squared = 0.0
    for word in _letter_words(tokenize(text)):
        squared += _word_norm(word)
        for name in _word_features(word):
            counts[name] = counts.get(name, 0.0) + 1.0
    norm = math.sqrt(squared) or 1.0
    return {name: value / norm for name, value in counts.items()}


@lru_cache(maxsize=65536)
def _word_norm(word: str) -> float:
    counts: dict[str, int] = {}
    for name in _word_features(word):
        counts[name] = counts.get(name, 0) + 1
    return float(sum(count * count for count in counts.values()))


# How a language hint breaks ties (see ``LanguageModel.detect``).
SHORT_TEXT_WORDS = 3
HINT_FLOOR = 0.1
HINT_MARGIN = 0.2


class LanguageModel:
    """Logistic-regression weights over ``language_features`` (trained by
    ``surveys.reasons.nlp.training``, stored in the model file)."""

    def __init__(self, weights: dict[str, list[float]], intercepts: list[float]) -> None:
        self.weights = weights
        self.intercepts = intercepts
        self._word_totals: dict[str, tuple[float, float, float]] = {}

    def as_json(self) -> dict:
        return {"weights": self.weights, "intercepts": self.intercepts}

    @classmethod
    def from_json(cls, data: dict) -> "LanguageModel":
        return cls(data["weights"], data["intercepts"])

    def probabilities(
        self, text: str, tokens: list[Token] | None = None
    ) -> dict[str, float] | None:
        """Probability of each language, or None when the text has no letters."""
        words = _letter_words(tokenize(text) if tokens is None else tokens)
        if not words:
            return None
        sums = [0.0, 0.0, 0.0]
        squared = 0.0
        for word in words:
            word_totals = self._word_totals.get(word)
            if word_totals is None:
                word_totals = self._totals_of(word)
            sums[0] += word_totals[0]
            sums[1] += word_totals[1]
            sums[2] += word_totals[2]
            squared += _word_norm(word)
        norm = math.sqrt(squared)
        totals = [
            intercept + value / norm for intercept, value in zip(self.intercepts, sums, strict=True)
        ]
        peak = max(totals)
        exponentials = [math.exp(total - peak) for total in totals]
        total = sum(exponentials)
        return {
            language: value / total for language, value in zip(LANGUAGES, exponentials, strict=True)
        }

    def _totals_of(self, word: str) -> tuple[float, float, float]:
        sums = [0.0, 0.0, 0.0]
        for name in _word_features(word):
            row = self.weights.get(name)
            if row is not None:
                sums[0] += row[0]
                sums[1] += row[1]
                sums[2] += row[2]
        totals = (sums[0], sums[1], sums[2])
        if len(self._word_totals) < 200_000:
            self._word_totals[word] = totals
        return totals

    def detect(
        self, text: str, hint: str | None = None, tokens: list[Token] | None = None
    ) -> str | None:
        """The language a survey answer is written in: "sv", "nb" or "en".

        None for empty or punctuation-only text. ``hint`` (e.g. the contact's language
        setting) only breaks ties, so a Swede answering in English gets "en": in a text of
        up to ``SHORT_TEXT_WORDS`` words ("for dyrt") the hint wins unless its language has
        less than ``HINT_FLOOR`` probability; in a longer one only when it is within
        ``HINT_MARGIN`` of the best. Text with no letters at all ("8") gets the hint.
        """
        if not has_words(text):
            return None
        if hint not in LANGUAGES:
            hint = None
        if tokens is None:
            tokens = tokenize(text)
        probabilities = self.probabilities(text, tokens)
        if probabilities is None:
            return hint
        best = max(LANGUAGES, key=lambda language: probabilities[language])
        if hint is None or hint == best:
            return best
        if len(_letter_words(tokens)) <= SHORT_TEXT_WORDS:
            return hint if probabilities[hint] >= HINT_FLOOR else best
        return hint if probabilities[best] - probabilities[hint] < HINT_MARGIN else best
