"""Service names, categories, descriptions and average times that look like real panel text.

Modelled on the real lists (``shared/data/smmpanels``) and FORMATS.md section 3: bracketed or
``|``-separated tags, upstream id prefixes, emoji, styled Unicode letters, flags and country
names, refill / speed / start-time / max tags, and names in Vietnamese, Turkish, Indonesian,
Spanish, Portuguese and Arabic. Each panel gets a :class:`NameStyle` so its list is internally
consistent (one panel writes ``[R30]``, another ``| Refill 30 Days |``), as real lists are.

The truth about a service lives in :class:`ServiceTraits`; the name is only one rendering of it,
so the ground truth never depends on parsing the name back.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulator.calibration import UNLIMITED_MAX

# --- Vocabulary ------------------------------------------------------------------------------

PLATFORM_ALIASES: dict[str, tuple[str, ...]] = {
    "instagram": ("Instagram", "Instagram", "Instagram", "IG", "Insta"),
    "youtube": ("YouTube", "Youtube", "Youtube", "YT"),
    "tiktok": ("TikTok", "Tiktok", "Tik Tok"),
    "twitter": ("Twitter", "Twitter", "X (Twitter)", "Twitter/X"),
    "facebook": ("Facebook", "Facebook", "FB"),
    "soundcloud": ("SoundCloud", "Soundcloud"),
    "linkedin": ("LinkedIn", "Linkedin"),
    "imdb": ("IMDb", "IMDB"),
    "reverbnation": ("ReverbNation", "Reverbnation"),
    "tidal": ("TIDAL", "Tidal"),
    "mixcloud": ("Mixcloud", "MixCloud"),
    "website": ("Website",),
    "google": ("Google", "Google Maps", "Google Business"),
    "app": ("Android App", "iOS App", "Mobile App"),
}

# English metric wordings per (platform, metric); repeated entries are more frequent.
METRIC_WORDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("instagram", "followers"): ("Followers", "Followers", "Followers", "Real Followers", "Premium Followers"),
    ("instagram", "likes"): ("Likes", "Likes", "Likes", "Post Likes", "Auto Likes", "Reel Likes", "Power Likes", "Photo Likes"),
    ("instagram", "views"): ("Views", "Views", "Video Views", "Reel Views", "Reels Views", "IGTV Views", "Live Video Views"),
    ("instagram", "comments"): ("Comments", "Custom Comments", "Random Comments", "Emoji Comments", "Verified Comments"),
    ("instagram", "impressions"): ("Impressions", "Impressions", "Impressions + Reach", "Profile Impressions"),
    ("instagram", "story_views"): ("Story Views", "Story Views", "Stories Views"),
    ("instagram", "saves"): ("Saves", "Post Saves"),
    ("instagram", "votes"): ("Story Poll Votes", "Poll Votes"),
    ("instagram", "traffic"): ("Profile Visits", "Profile Visits + Traffic"),
    ("youtube", "views"): ("Views", "Views", "Views", "Real Views", "High Retention Views", "Ads Views", "Unique Views", "Shorts Views", "Live Stream Views"),
    ("youtube", "likes"): ("Likes", "Likes", "Video Likes", "Shorts Likes", "Comment Likes"),
    ("youtube", "comments"): ("Comments", "Custom Comments", "Random Comments", "Comment Replies"),
    ("youtube", "subscribers"): ("Subscribers", "Subscribers", "Real Subscribers"),
    ("youtube", "shares"): ("Social Shares", "Shares"),
    ("youtube", "watch_time"): ("Watch Time Hours", "Watchtime", "WatchTime"),
    ("youtube", "traffic"): ("External Traffic", "Traffic from Google"),
    ("website", "shares"): ("Social Shares", "Social Signals"),
    ("spotify", "plays"): ("Plays", "Plays", "Premium Plays", "Playlist Plays", "Album Plays", "Track Plays"),
    ("spotify", "followers"): ("Followers", "Playlist Followers", "Artist Followers"),
    ("spotify", "saves"): ("Saves", "Track Saves"),
    ("spotify", "listeners"): ("Monthly Listeners",),
    ("facebook", "likes"): ("Page Likes", "Page Likes", "Post Likes", "Photo Likes", "Page Likes + Followers", "Post Reactions"),
    ("facebook", "views"): ("Video Views", "Video Views", "Live Stream Views", "Reels Views"),
    ("facebook", "comments"): ("Comments", "Custom Comments"),
    ("facebook", "followers"): ("Followers", "Profile Followers", "Page Followers"),
    ("facebook", "reviews"): ("Page Reviews", "5 Star Page Reviews"),
    ("facebook", "shares"): ("Post Shares", "Shares"),
    ("facebook", "members"): ("Group Members",),
    ("facebook", "plays"): ("Video Plays",),
    ("facebook", "votes"): ("Poll Votes",),
    ("twitter", "likes"): ("Likes", "Favorites", "Tweet Likes"),
    ("twitter", "views"): ("Video Views", "Tweet Views", "Views"),
    ("twitter", "votes"): ("Poll Votes",),
    ("twitter", "impressions"): ("Impressions", "Tweet Impressions"),
    ("twitter", "comments"): ("Comments", "Custom Replies"),
    ("app", "installs"): ("Installs", "Installs", "Downloads + Installs"),
    ("app", "reviews"): ("Reviews", "Rating & Reviews", "5 Star Reviews"),
    ("twitch", "views"): ("Live Viewers", "Live Stream Views", "Video Views", "Channel Views"),
    ("twitch", "plays"): ("Live Plays",),
    ("twitch", "subscribers"): ("Prime Subscribers",),
    ("linkedin", "followers"): ("Followers", "Company Page Followers"),
    ("linkedin", "likes"): ("Post Likes", "Likes"),
    ("linkedin", "shares"): ("Shares", "Post Shares"),
    ("tiktok", "likes"): ("Likes", "Video Likes"),
    ("tiktok", "views"): ("Views", "Video Views"),
    ("tiktok", "comments"): ("Comments", "Custom Comments"),
    ("telegram", "views"): ("Post Views", "Last 5 Posts Views", "Views"),
    ("telegram", "members"): ("Channel Members", "Group Members", "Members"),
    ("telegram", "likes"): ("Post Reactions", "Reactions"),
    ("google", "reviews"): ("Reviews", "5 Star Reviews"),
    ("google", "traffic"): ("Visitors", "Search Traffic", "Organic Traffic"),
    ("google", "downloads"): ("Play Store Downloads",),
    ("google", "plays"): ("Podcast Plays",),
    ("google", "likes"): ("Post Likes",),
    ("imdb", "votes"): ("Votes", "Rating Votes", "10 Star Votes"),
    ("imdb", "reviews"): ("User Reviews",),
    ("imdb", "views"): ("Starmeter Page Views",),
    ("pinterest", "likes"): ("Likes", "Pin Likes"),
    ("podcast", "plays"): ("Plays", "Episode Plays"),
    ("tumblr", "reposts"): ("Reblogs",),
    ("shazam", "plays"): ("Plays", "Shazams"),
    ("quora", "votes"): ("Upvotes",),
    ("reddit", "votes"): ("Upvotes", "Post Upvotes"),
    ("reverbnation", "followers"): ("Fans",),
    ("periscope", "likes"): ("Hearts",),
}  # fmt: skip

# Local-language wordings for the common metrics (platform brand names stay in Latin script).
LOCAL_METRIC_WORDS: dict[str, dict[str, str]] = {
    "vi": {"followers": "Người theo dõi", "likes": "Lượt thích", "views": "Lượt xem",
           "comments": "Bình luận", "subscribers": "Người đăng ký", "members": "Thành viên",
           "shares": "Chia sẻ", "plays": "Lượt nghe", "story_views": "Lượt xem tin",
           "saves": "Lượt lưu", "impressions": "Lượt hiển thị"},
    "tr": {"followers": "Takipçi", "likes": "Beğeni", "views": "İzlenme", "comments": "Yorum",
           "subscribers": "Abone", "members": "Üye", "shares": "Paylaşım", "plays": "Dinlenme",
           "story_views": "Hikaye İzlenme", "saves": "Kaydetme", "impressions": "Gösterim",
           "retweets": "Retweet", "listeners": "Aylık Dinleyici"},
    "id": {"followers": "Pengikut", "likes": "Suka", "views": "Tayangan", "comments": "Komentar",
           "subscribers": "Subscriber", "members": "Anggota", "shares": "Bagikan",
           "plays": "Putar", "story_views": "Tayangan Story", "saves": "Simpan",
           "impressions": "Impresi"},
    "es": {"followers": "Seguidores", "likes": "Me gusta", "views": "Visualizaciones",
           "comments": "Comentarios", "subscribers": "Suscriptores", "members": "Miembros",
           "shares": "Compartidos", "plays": "Reproducciones", "story_views": "Vistas de historias",
           "saves": "Guardados", "impressions": "Impresiones", "listeners": "Oyentes mensuales"},
    "pt": {"followers": "Seguidores", "likes": "Curtidas", "views": "Visualizações",
           "comments": "Comentários", "subscribers": "Inscritos", "members": "Membros",
           "shares": "Compartilhamentos", "plays": "Reproduções",
           "story_views": "Visualizações nos Stories", "saves": "Salvamentos",
           "impressions": "Impressões", "listeners": "Ouvintes mensais"},
    "ar": {"followers": "متابعين", "likes": "لايكات", "views": "مشاهدات", "comments": "تعليقات",
           "subscribers": "مشتركين", "members": "أعضاء", "shares": "مشاركات", "plays": "استماع",
           "story_views": "مشاهدات ستوري", "saves": "حفظ", "impressions": "وصول"},
}  # fmt: skip

LANGUAGES = ("en", "vi", "tr", "id", "es", "pt", "ar")


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    demonym: str
    local_names: tuple[tuple[str, str], ...] = ()
    """(language, name) pairs, e.g. ("tr", "Türk")."""

    @property
    def flag(self) -> str:
        return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in self.code)

    def local(self, language: str) -> str:
        return dict(self.local_names).get(language, self.name)


COUNTRIES: tuple[Country, ...] = (
    Country("US", "USA", "American", (("es", "Estados Unidos"), ("pt", "EUA"))),
    Country("BR", "Brazil", "Brazilian", (("pt", "Brasileiros"), ("es", "Brasil"), ("tr", "Brezilya"))),
    Country("IN", "India", "Indian"),
    Country("TR", "Turkey", "Turkish", (("tr", "Türk"),)),
    Country("ID", "Indonesia", "Indonesian", (("id", "Indonesia Aktif"),)),
    Country("VN", "Vietnam", "Vietnamese", (("vi", "Việt Nam"),)),
    Country("DE", "Germany", "German", (("tr", "Almanya"),)),
    Country("FR", "France", "French"),
    Country("GB", "UK", "British"),
    Country("ES", "Spain", "Spanish", (("es", "España"),)),
    Country("IT", "Italy", "Italian"),
    Country("RU", "Russia", "Russian"),
    Country("JP", "Japan", "Japanese"),
    Country("KR", "South Korea", "Korean"),
    Country("MX", "Mexico", "Mexican", (("es", "México"),)),
    Country("AR", "Argentina", "Argentine", (("es", "Argentina"),)),
    Country("SA", "Saudi Arabia", "Saudi", (("ar", "سعودي"),)),
    Country("EG", "Egypt", "Egyptian", (("ar", "مصر"),)),
    Country("NL", "Netherlands", "Dutch"),
    Country("PL", "Poland", "Polish"),
    Country("CA", "Canada", "Canadian"),
    Country("AU", "Australia", "Australian"),
    Country("PH", "Philippines", "Filipino"),
    Country("TH", "Thailand", "Thai"),
    Country("PK", "Pakistan", "Pakistani"),
    Country("NG", "Nigeria", "Nigerian"),
    Country("UA", "Ukraine", "Ukrainian"),
    Country("SE", "Sweden", "Swedish"),
    Country("PT", "Portugal", "Portuguese", (("pt", "Portugal"),)),
    Country("AE", "UAE", "Emirati", (("ar", "الإمارات"),)),
    Country("BD", "Bangladesh", "Bangladeshi"),
    Country("KE", "Kenya", "Kenyan"),
    Country("IL", "Israel", "Israeli"),
    Country("RO", "Romania", "Romanian"),
    Country("CZ", "Czech Republic", "Czech"),
    Country("CO", "Colombia", "Colombian", (("es", "Colombia"),)),
    Country("CL", "Chile", "Chilean", (("es", "Chile"),)),
    Country("MY", "Malaysia", "Malaysian"),
)  # fmt: skip
COUNTRY_BY_CODE = {country.code: country for country in COUNTRIES}
# The country a local-language panel targets most.
HOME_COUNTRY = {"vi": "VN", "tr": "TR", "id": "ID", "es": "MX", "pt": "BR", "ar": "SA"}

TRAFFIC_SOURCES = (
    "Google", "Google", "Bing.com", "Yahoo", "Facebook", "Instagram", "Twitter", "Reddit",
    "Wikipedia", "Quora", "LinkedIn", "Pinterest", "YouTube", "Tumblr", "TikTok", "VK.com",
    "Naver Search", "Yandex", "DuckDuckGo", "MSN", "Fiverr.com", "Blogspot.com", "Medium",
    "Twitch.tv", "Amazon", "Yelp", "Baidu", "Social Media", "Direct",
)  # fmt: skip
SHARE_NETWORKS = ("Facebook", "Twitter", "Pinterest", "LinkedIn", "Reddit", "Tumblr", "VK")

CATEGORY_EMOJI = {
    "instagram": "📸", "youtube": "▶️", "tiktok": "🎵", "twitter": "🐦", "facebook": "📘",
    "spotify": "🎧", "telegram": "✈️", "website": "🌐", "app": "📱", "google": "🗺️",
    "soundcloud": "☁️", "twitch": "🎮", "linkedin": "💼",
}  # fmt: skip
TRAILING_EMOJI = (
    "⚡️⚡️⭐🔥💧", "♻️", "💧", "🔥", "⚡", "🔥🔥", "⭐", "💧⛔", "🚀", "⚡️⭐", "♻️🔥", "💎", "⚡️⚡️⚡️⭐🔥💧",
)  # fmt: skip
LEADING_EMOJI = ("🔥", "⚡", "🟢", "💎", "👑", "♛", "🔥⚡⚡", "⭐", "🚀")
MISC_TAGS = (
    "Super Fast!", "Cheapest", "NEW", "💎EXCLUSIVE", "Best Seller", "Recommended", "Working",
    "Stable", "Updated", "Fastest", "Best Price",
)  # fmt: skip

# --- Styled Unicode (Mathematical Alphanumeric Symbols), as panels use for emphasis -------------
_STYLED_BASES = {
    "bold": (0x1D400, 0x1D41A, 0x1D7CE),  # 𝐀 𝐚 𝟎
    "sans_bold": (0x1D5D4, 0x1D5EE, 0x1D7EC),  # 𝗔 𝗮 𝟬
}


def styled(text: str, style: str = "bold") -> str:
    """Render ASCII letters and digits in a Mathematical Alphanumeric style (``𝐍𝐎𝐍 𝐃𝐑𝐎𝐏``)."""
    upper, lower, digit = _STYLED_BASES[style]
    out = []
    for char in text:
        if "A" <= char <= "Z":
            out.append(chr(upper + ord(char) - ord("A")))
        elif "a" <= char <= "z":
            out.append(chr(lower + ord(char) - ord("a")))
        elif "0" <= char <= "9":
            out.append(chr(digit + ord(char) - ord("0")))
        else:
            out.append(char)
    return "".join(out)


def short_quantity(value: int, lower: bool = False) -> str:
    """``10000`` -> ``10K``, ``1500000`` -> ``1.5M`` (how names state quantities)."""
    for divisor, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if value >= divisor:
            number = value / divisor
            text = f"{number:.1f}".rstrip("0").rstrip(".") + suffix
            return text.lower() if lower else text
    return str(value)


# --- Per-panel style and per-service traits --------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameStyle:
    """How one panel writes its service names and categories."""

    language: str
    local_share: float
    """Share of services named in the local language (the rest is English, copied upstream)."""
    brackets: str
    """``square``, ``spaced``, ``jap``, ``pipe``, ``dash``, ``tilde``, ``paren`` or ``curly``."""
    id_prefix: str | None
    """e.g. ``"ID{id} - "``; ``{id}`` is the panel's own service id."""
    refill_format: int
    max_format: int
    speed_format: int
    tag_density: float
    trailing_emoji: str | None
    trailing_emoji_share: float
    leading_emoji: str | None
    styled_share: float
    flag_prefix: bool
    server_tags: bool
    uppercase_tags: bool
    aliases: tuple[tuple[str, str], ...]
    """(platform, alias) chosen once per panel."""
    category_format: int
    category_granular: bool

    def alias(self, platform: str) -> str:
        return dict(self.aliases).get(platform) or _default_alias(platform)


def _default_alias(platform: str) -> str:
    return PLATFORM_ALIASES.get(platform, (platform.title(),))[0]


def random_name_style(rng: random.Random, language: str) -> NameStyle:
    """Draw one panel's naming habits."""
    if language == "vi":
        brackets = "pipe"
    elif language in ("tr", "ar"):
        brackets = rng.choice(("pipe", "square", "dash"))
    else:
        brackets = rng.choices(
            ("square", "spaced", "jap", "pipe", "dash", "tilde", "paren", "curly"),
            weights=(0.32, 0.14, 0.12, 0.08, 0.12, 0.09, 0.06, 0.07),
        )[0]
    id_prefix = rng.choices(
        (None, "ID{id} - ", "ID: {id} - ", "{id} ~ ", "{id} - ", "[ID: {id}] ", "ID {id}-"),
        weights=(0.62, 0.1, 0.08, 0.05, 0.06, 0.05, 0.04),
    )[0]
    aliases = tuple(
        (platform, rng.choice(options)) for platform, options in sorted(PLATFORM_ALIASES.items())
    )
    emoji_level = rng.random()
    return NameStyle(
        language=language,
        local_share=0.0 if language == "en" else rng.uniform(0.45, 0.85),
        brackets=brackets,
        id_prefix=id_prefix,
        refill_format=rng.randrange(6),
        max_format=rng.randrange(5),
        speed_format=rng.randrange(6),
        tag_density=rng.uniform(0.2, 0.7),
        trailing_emoji=rng.choice(TRAILING_EMOJI) if emoji_level > 0.25 else None,
        trailing_emoji_share=rng.uniform(0.3, 0.9),
        leading_emoji=rng.choice(LEADING_EMOJI) if emoji_level > 0.7 else None,
        styled_share=rng.choice((0.0, 0.0, 0.05, 0.15, 0.3)),
        flag_prefix=rng.random() < 0.6,
        server_tags=rng.random() < 0.4,
        uppercase_tags=rng.random() < 0.25,
        aliases=aliases,
        category_format=rng.randrange(4),
        category_granular=rng.random() < 0.5,
    )


@dataclass(slots=True)
class ServiceTraits:
    """The truth about one service, from which its name, description and price are made."""

    platform: str
    metric: str
    country: str | None = None
    """ISO alpha-2 code of the targeted audience."""
    refill_days: int | None = None
    """None: the name does not say; 0: explicitly no refill; 365: lifetime."""
    quality: str | None = None
    """``hq``, ``mq``, ``lq``, ``real``, ``bot``, ``mixed``, ``premium`` or None."""
    non_drop: bool | None = None
    drip_feed: bool = False
    speed_per_day: int | None = None
    start_hours: int | None = None
    server_number: int | None = None
    word: str = ""
    """The English metric wording picked for this service (``Reel Views``)."""
    local: bool = False
    """Named in the panel's local language."""
    source: str | None = None
    """Traffic source for website traffic (``Google``)."""
    package_units: int | None = None
    """Units delivered by a Package service (its price is for the whole package)."""


_REFILL_CHOICES = (None,) * 8 + (0, 0, 7, 15, 30, 30, 30, 60, 90, 365, 365)
_REFILL_METRICS = {"followers", "likes", "subscribers", "members", "plays", "views", "listeners"}
_QUALITY_CHOICES = (None,) * 9 + (
    "hq", "hq", "hq", "real", "real", "lq", "mixed", "bot", "premium", "mq",
)  # fmt: skip
_START_CHOICES = (0, 0, 0, 1, 1, 2, 6, 12, 24, 48)
_SPEEDS = (200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 500000, 1000000)


def sample_traits(
    rng: random.Random, platform: str, metric: str, style: NameStyle, *, country: str | None = None
) -> ServiceTraits:
    """Draw the attributes of a new service of a given class on one panel."""
    traits = ServiceTraits(platform=platform, metric=metric)
    words = METRIC_WORDS.get((platform, metric)) or (metric.replace("_", " ").title(),)
    traits.word = rng.choice(words)
    traits.local = (
        style.language != "en"
        and metric in LOCAL_METRIC_WORDS.get(style.language, {})
        and platform not in ("website",)
        and rng.random() < style.local_share
    )
    if country is not None:
        traits.country = country
    elif platform == "website" and metric == "traffic":
        traits.country = None if rng.random() < 0.15 else rng.choice(COUNTRIES).code
    elif traits.local and style.language in HOME_COUNTRY and rng.random() < 0.5:
        traits.country = HOME_COUNTRY[style.language]
    elif rng.random() < 0.22:
        traits.country = rng.choice(COUNTRIES).code
    if platform == "website" and metric == "traffic":
        traits.source = rng.choice(TRAFFIC_SOURCES)
    elif platform == "website":
        traits.source = rng.choice(SHARE_NETWORKS)
    if metric in _REFILL_METRICS:
        traits.refill_days = rng.choice(_REFILL_CHOICES)
    elif rng.random() < 0.15:
        traits.refill_days = rng.choice((0, 30))
    traits.quality = rng.choice(_QUALITY_CHOICES)
    roll = rng.random()
    traits.non_drop = True if roll < 0.14 else (False if roll < 0.17 else None)
    traits.drip_feed = metric in ("likes", "views", "followers", "plays") and rng.random() < 0.3
    if rng.random() < 0.35:
        traits.speed_per_day = rng.choice(_SPEEDS)
    if rng.random() < 0.6:
        traits.start_hours = rng.choice(_START_CHOICES)
    if style.server_tags and rng.random() < 0.5:
        traits.server_number = rng.randint(1, 9)
    return traits


# --- Tag texts -------------------------------------------------------------------------------

_REFILL_TEXT = {
    "vi": ("Bảo hành {d} ngày", "Không bảo hành", "Bảo hành trọn đời"),
    "tr": ("{d} Gün Telafili", "Telafisiz", "Ömür Boyu Telafili"),
    "id": ("Isi Ulang {d} Hari", "Tanpa Isi Ulang", "Garansi Seumur Hidup"),
    "es": ("Reposición {d} días", "Sin reposición", "Reposición de por vida"),
    "pt": ("Reposição {d} dias", "Sem reposição", "Reposição vitalícia"),
    "ar": ("ضمان {d} يوم", "بدون ضمان", "ضمان مدى الحياة"),
}  # fmt: skip
_REFILL_EN = (
    ("R{d}", "NR", "R∞"),
    ("Refill: {d}D", "No Refill", "Refill: Lifetime"),
    ("{d}D Refill", "Non Refill", "Lifetime Refill"),
    ("Refill {d} Days", "No Refill", "Lifetime Refill"),
    ("{d} Days Guarantee", "No Guarantee", "365 Days Guarantee"),
    ("AR{d}", "No Refill ⚠️", "AR∞"),
)
_MAX_TEXT_LOCAL = {"vi": "Tối đa {m}", "tr": "Max {m}", "id": "Maks {m}", "es": "Máx {m}",
                   "pt": "Máx {m}", "ar": "الحد الأقصى {m}"}  # fmt: skip
_START_LOCAL = {"vi": "Bắt đầu ngay", "tr": "Anlık Başlar", "id": "Proses Cepat",
                "es": "Inicio inmediato", "pt": "Início imediato", "ar": "بدء فوري"}  # fmt: skip
_SPEED_LOCAL = {"vi": "Tốc độ {s}/ngày", "tr": "Günlük {s}", "id": "{s}/Hari", "es": "{s}/día",
                "pt": "{s}/dia", "ar": "{s} يوميا"}  # fmt: skip
_QUALITY_LOCAL = {
    "vi": {"real": "Người thật", "hq": "Chất lượng cao"},
    "tr": {"real": "Gerçek", "hq": "Kaliteli", "bot": "Bot", "premium": "Premium"},
    "id": {"real": "Real Aktif", "hq": "Kualitas Tinggi"},
    "es": {"real": "Reales", "hq": "Alta calidad", "premium": "Premium"},
    "pt": {"real": "Reais", "hq": "Alta qualidade", "premium": "Premium"},
    "ar": {"real": "حقيقي", "hq": "جودة عالية"},
}  # fmt: skip
_NON_DROP_LOCAL = {"vi": "Không tụt", "tr": "Düşüş Yok", "id": "Tidak Drop", "es": "Sin caída",
                   "pt": "Sem queda", "ar": "بدون نقص"}  # fmt: skip
_QUALITY_EN = {
    "hq": ("HQ", "HQ", "High Quality"),
    "mq": ("MQ", "Medium Quality"),
    "lq": ("LQ", "Low Quality"),
    "real": ("Real", "Real & Active", "100% Real", "REAL"),
    "bot": ("Bot", "Bots"),
    "mixed": ("Mixed", "Mixed Quality"),
    "premium": ("Premium", "VIP"),
}


def _refill_text(rng: random.Random, style: NameStyle, days: int, local: bool) -> str:
    if local and style.language in _REFILL_TEXT:
        some, none, lifetime = _REFILL_TEXT[style.language]
    else:
        some, none, lifetime = _REFILL_EN[style.refill_format]
    if days == 0:
        return none
    if days >= 365:
        return lifetime
    return some.format(d=days)


def _max_text(rng: random.Random, style: NameStyle, maximum: int, local: bool) -> str:
    lower = style.max_format == 4
    amount = "Unlimited" if maximum == UNLIMITED_MAX else short_quantity(maximum, lower=lower)
    if local and style.language in _MAX_TEXT_LOCAL:
        return _MAX_TEXT_LOCAL[style.language].format(m=amount)
    return ("{m}", "Max: {m}", "Max {m}", "MAX-{m}", "Max - {m}")[style.max_format].format(m=amount)


def _speed_text(style: NameStyle, speed: int, local: bool) -> str:
    amount = short_quantity(speed)
    if local and style.language in _SPEED_LOCAL:
        return _SPEED_LOCAL[style.language].format(s=amount)
    low = short_quantity(max(speed // 2, 1)).lower()
    formats = ("{s}/Day", "Speed: {s}/D", "{s} Per Day", "{s}/D", "Day {s}", "{low}-{sl}/Day")
    return formats[style.speed_format].format(s=amount, low=low, sl=amount.lower())


def _start_text(rng: random.Random, hours: int, local: bool, style: NameStyle) -> str:
    if local and style.language in _START_LOCAL and hours <= 1:
        return _START_LOCAL[style.language]
    if hours == 0:
        return rng.choice(("Instant", "INSTANT", "Instant Start", "0-1H"))
    return rng.choice((f"0-{hours}H", f"Start Time: 0 - {hours} Hr", f"{hours}H", f"0-{hours}h"))


def _quality_text(rng: random.Random, style: NameStyle, quality: str, local: bool) -> str:
    if local and quality in _QUALITY_LOCAL.get(style.language, {}):
        return _QUALITY_LOCAL[style.language][quality]
    return rng.choice(_QUALITY_EN[quality])


def _country_text(rng: random.Random, style: NameStyle, code: str, local: bool) -> str:
    country = COUNTRY_BY_CODE[code]
    if local:
        return country.local(style.language)
    return rng.choice((country.name.upper(), country.name, country.name, country.demonym))


def _maybe_styled(rng: random.Random, style: NameStyle, text: str) -> str:
    if style.styled_share and rng.random() < style.styled_share and text.isascii():
        return styled(text.upper(), rng.choice(("bold", "sans_bold")))
    return text


# --- Names -----------------------------------------------------------------------------------


def service_name(
    rng: random.Random,
    style: NameStyle,
    traits: ServiceTraits,
    *,
    service_id: str,
    min_quantity: int,
    max_quantity: int,
) -> str:
    """Render a service name the way this panel writes them (the clean text, before escaping)."""
    local = traits.local
    alias = style.alias(traits.platform)
    if traits.package_units:
        core = _package_core(rng, style, traits, alias)
    elif traits.platform == "website":
        core = _website_core(rng, style, traits)
    elif local:
        core = _local_core(style, traits, alias)
    else:
        core = f"{alias} {traits.word}"
        if traits.quality and rng.random() < 0.3:
            core = f"{alias} {_quality_text(rng, style, traits.quality, False)} {traits.word}"
    tags: list[str] = []
    density = style.tag_density
    if traits.platform == "website":
        density *= 0.4  # real traffic rows are mostly bare "Spain Traffic from Reddit"
    if traits.country and traits.platform != "website":
        if style.flag_prefix and rng.random() < 0.7:
            core = f"{COUNTRY_BY_CODE[traits.country].flag} {core}"
        tags.append(_country_text(rng, style, traits.country, local))
    if rng.random() < density * 0.6:
        tags.insert(0, _max_text(rng, style, max_quantity, local))
    if traits.quality and rng.random() < density and traits.quality not in core.lower():
        tags.append(_maybe_styled(rng, style, _quality_text(rng, style, traits.quality, local)))
    if traits.refill_days is not None and rng.random() < 0.6:
        tags.append(_maybe_styled(rng, style, _refill_text(rng, style, traits.refill_days, local)))
    if style.brackets == "jap" and (traits.start_hours is not None or traits.speed_per_day):
        start = (
            "1H"
            if traits.start_hours is None
            else ("0-1H" if traits.start_hours == 0 else f"{traits.start_hours}H")
        )
        speed = short_quantity(traits.speed_per_day or 1000)
        tags.append(f"{start} - {speed}/Day")
    else:
        if traits.start_hours is not None and rng.random() < 0.7:
            tags.append(_start_text(rng, traits.start_hours, local, style))
        if traits.speed_per_day and rng.random() < density:
            tags.append(_speed_text(style, traits.speed_per_day, local))
    if traits.non_drop is True and rng.random() < 0.8:
        text = _NON_DROP_LOCAL.get(style.language) if local else None
        tags.append(
            text
            or _maybe_styled(
                rng, style, rng.choice(("Non Drop", "NON DROP", "No Drop", "Non-Drop"))
            )
        )
    elif traits.non_drop is False:
        tags.append(rng.choice(("HIGH DROP", "Drop Possible", "Less Drop")))
    if traits.drip_feed and rng.random() < 0.2:
        tags.append("Drip-Feed")
    if rng.random() < density * 0.25:
        tags.append(rng.choice(MISC_TAGS))
    if traits.server_number is not None:
        tags.append(
            rng.choice(("S{n}", "Server {n}", "N{n}", "#{n}")).format(n=traits.server_number)
        )
    if style.uppercase_tags:
        tags = [tag.upper() if tag.isascii() else tag for tag in tags]
    name = _join(rng, style, core, tags)
    if style.trailing_emoji and rng.random() < style.trailing_emoji_share:
        name = f"{name} {style.trailing_emoji}"
    if style.leading_emoji and rng.random() < 0.5:
        name = f"{style.leading_emoji} {name}"
    if style.id_prefix:
        name = style.id_prefix.format(id=service_id) + name
    return name


def _join(rng: random.Random, style: NameStyle, core: str, tags: list[str]) -> str:
    if not tags:
        return core
    brackets = style.brackets
    if brackets in ("square", "jap"):
        return core + " " + " ".join(f"[{tag}]" for tag in tags)
    if brackets == "spaced":
        instant = [tag for tag in tags if tag.upper().startswith("INSTANT")]
        rest = [tag for tag in tags if tag not in instant]
        text = core + " " + " ".join(f"[ {tag} ]" for tag in rest)
        return text + (" INSTANT" if instant else "")
    if brackets == "pipe":
        text = core + " | " + " | ".join(tags)
        return text + (" |" if rng.random() < 0.3 else "")
    if brackets == "dash":
        return core + " - " + " - ".join(tags)
    if brackets == "tilde":
        return core + " ~ " + " ~ ".join(tags)
    if brackets == "paren":
        return core + " " + " ".join(f"({tag})" for tag in tags)
    return core + " " + " ".join("{" + tag + "}" for tag in tags)  # curly


def _local_core(style: NameStyle, traits: ServiceTraits, alias: str) -> str:
    word = LOCAL_METRIC_WORDS[style.language][traits.metric]
    language = style.language
    if language == "vi":
        return f"{alias} - {word}"
    if language == "es":
        return f"{word} de {alias}"
    if language == "pt":
        return f"{word} {alias}"
    return f"{alias} {word}"  # tr, id, ar: brand first


def _website_core(rng: random.Random, style: NameStyle, traits: ServiceTraits) -> str:
    country = COUNTRY_BY_CODE[traits.country].name if traits.country else "WorldWide"
    source = traits.source or "Google"
    if traits.metric == "shares":
        return rng.choice(
            (f"{country} Social Shares from {source}", f"Social Signals from {source}")
        )
    return rng.choice(
        (
            f"{country} Traffic from {source}",
            f"{country} Traffic from {source}",
            f"Website Traffic from {source} [{country}]",
            f"Real - {country} Website Visitors",
            f"{country} Organic Traffic from {source} Search",
        )
    )


def _package_core(rng: random.Random, style: NameStyle, traits: ServiceTraits, alias: str) -> str:
    units = traits.package_units or 1000
    if traits.metric == "watch_time":
        return f"{alias} Watch Time [{units} Hours] Package"
    return rng.choice(
        (
            f"{alias} {units} {traits.word} Package",
            f"{alias} {traits.word} Package - {units:,} {traits.word}",
            f"{alias} {short_quantity(units)} {traits.word} VIP Package",
        )
    )


def category_name(style: NameStyle, traits: ServiceTraits) -> str:
    """The category a service is listed under on this panel."""
    alias = style.alias(traits.platform)
    if traits.platform == "website" and traits.metric == "traffic":
        base = "Website Traffic"
    elif traits.local:
        base = _local_core(style, traits, alias)
    else:
        base = f"{alias} {_category_metric(traits)}"
    if style.category_granular:
        if traits.package_units:
            base += " [Packages]"
        elif traits.platform == "website" and traits.country:
            base += " [Country Targeted]"
        elif traits.country:
            base += " [Targeted]"
        elif traits.refill_days == 0:
            base += " [No Refill]"
        elif traits.refill_days:
            base += " [Refill]"
    fmt = style.category_format
    if fmt == 1:
        return base.replace(f"{alias} ", f"{alias} - ", 1) if not traits.local else base
    if fmt == 2:
        return f"{CATEGORY_EMOJI.get(traits.platform, '⭐')} {base}"
    if fmt == 3:
        return base.upper() if base.isascii() else base
    return base


def _category_metric(traits: ServiceTraits) -> str:
    generic = {
        "story_views": "Story Views", "watch_time": "Watch Time", "traffic": "Traffic",
        "views": "Views", "likes": "Likes",
    }  # fmt: skip
    if traits.platform == "facebook" and traits.metric == "likes":
        return "Page & Post Likes"
    return generic.get(traits.metric, traits.metric.replace("_", " ").title())


# --- Descriptions and average times ----------------------------------------------------------

_LINK_EXAMPLES = {
    "instagram": "https://www.instagram.com/username",
    "youtube": "https://www.youtube.com/watch?v=xxxxxxxx",
    "tiktok": "https://www.tiktok.com/@username",
    "twitter": "https://x.com/username",
    "facebook": "https://www.facebook.com/page",
    "spotify": "https://open.spotify.com/track/xxxx",
    "telegram": "https://t.me/channel",
    "website": "Full Website URL",
}  # fmt: skip


def description(
    rng: random.Random, traits: ServiceTraits, *, min_quantity: int, max_quantity: int
) -> str:
    """A multi-line description (``\\n`` separated; pages render it with ``<br>``)."""
    if rng.random() < 0.25:
        return ""
    lines: list[str] = []
    if traits.platform == "website" and traits.metric == "traffic":
        lines += [
            "💎 100% Real & Unique Traffic",
            "💻 Desktop Traffic 45-55%",
            "📱 Mobile Traffic 45-55%",
            "✓ Google Analytics Supported",
            "⚠ No Adult, Drugs or other harmful websites allowed",
        ]
    start = traits.start_hours
    lines.append(
        "⌛️ Start Time: " + ("Instant" if not start else f"0-{start} Hours")
        if rng.random() < 0.8
        else f"Start: {'0-1 hour' if not start else f'{start} hours'}"
    )
    if traits.speed_per_day:
        lines.append(f"⚡️ Speed: {short_quantity(traits.speed_per_day)} per day")
    if traits.refill_days is not None:
        if traits.refill_days == 0:
            lines.append("⛔ No Refill / No Refund")
        elif traits.refill_days >= 365:
            lines.append("✅ Life Time Guaranteed")
        else:
            lines.append(f"♻️ Refill: {traits.refill_days} days")
    if traits.quality in ("real", "hq", "premium"):
        lines.append(rng.choice(("👫 High Quality Accounts", "100% Real & Active", "Quality: HQ")))
    lines.append(f"🔻 Minimum: {min_quantity:,}".replace(",", " "))
    lines.append(f"🔺 Maximum: {max_quantity:,}".replace(",", " "))
    if traits.platform in _LINK_EXAMPLES:
        lines.append(f"📌 Link: {_LINK_EXAMPLES[traits.platform]}")
    if rng.random() < 0.4:
        lines.append("⚠️ Do not place 2 orders for the same link at the same time")
    return "\n".join(lines)


_NOT_ENOUGH = {"en": "Not enough data", "tr": "Yeterli veri yok", "es": "No hay suficientes datos",
               "pt": "Dados insuficientes", "id": "Data tidak cukup", "vi": "Không đủ dữ liệu",
               "ar": "لا توجد بيانات كافية"}  # fmt: skip
_TIME_UNITS = {
    "en": ("hour", "hours", "minute", "minutes"), "tr": ("saat", "saat", "dakika", "dakika"),
    "es": ("hora", "horas", "minuto", "minutos"), "pt": ("hora", "horas", "minuto", "minutos"),
    "id": ("jam", "jam", "menit", "menit"), "vi": ("giờ", "giờ", "phút", "phút"),
    "ar": ("ساعة", "ساعات", "دقيقة", "دقائق"),
}  # fmt: skip


def average_time(rng: random.Random, language: str) -> str:
    """``81 hours 55 minutes``, ``45 minutes`` or ``Not enough data`` (in the page language)."""
    if rng.random() < 0.35:
        return _NOT_ENOUGH.get(language, _NOT_ENOUGH["en"])
    minutes = max(1, int(math.exp(rng.gauss(math.log(240), 1.3))))
    hours, minutes = divmod(minutes, 60)
    hour_one, hour_many, minute_one, minute_many = _TIME_UNITS.get(language, _TIME_UNITS["en"])
    parts = []
    if hours:
        parts.append(f"{hours} {hour_one if hours == 1 else hour_many}")
    if minutes or not hours:
        parts.append(f"{minutes} {minute_one if minutes == 1 else minute_many}")
    return " ".join(parts)


BRAND_HEADS = (
    "Smm", "Follow", "Insta", "Boost", "Viral", "Hype", "Rocket", "Social", "Fame", "Like",
    "Peak", "Star", "Growth", "Panel", "Cheap", "Bulk", "Turbo", "Mega", "Prime", "Fast",
)  # fmt: skip
BRAND_TAILS = (
    "Kings", "Panel", "SMM", "Hub", "World", "Pro", "Store", "Lab", "Zone", "Box", "Media",
    "Provider", "Club", "Center", "Market",
)  # fmt: skip


def brand_name(rng: random.Random, language: str) -> str:
    """A panel brand such as ``BoostKings`` or ``SmmTurk Panel``."""
    head = rng.choice(BRAND_HEADS)
    tail = rng.choice(BRAND_TAILS)
    local = {"tr": "Turk", "vi": "Viet", "id": "Indo", "es": "Latino", "pt": "Brasil", "ar": "Arab"}
    if language in local and rng.random() < 0.6:
        return f"{head}{local[language]} {tail}"
    return f"{head}{tail}" if rng.random() < 0.6 else f"{head} {tail}"
