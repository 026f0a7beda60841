"""pipelines.taxonomy: platform x metric classification of service names.

Real names are copied from the 2020 smmpanels sample (a few per theme, not the dataset); the
hard cases are the ones the classification issue names. Agreement with the authors' labels over
the whole sample is measured in test_taxonomy_labeled.py.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml

from pipelines.taxonomy import (
    Classification,
    Taxonomy,
    TaxonomyError,
    classify,
    default_taxonomy_path,
    fold_for_matching,
    load_taxonomy,
)


def case(name, platform, metric, *, category=None, id=None):
    return pytest.param(name, category, platform, metric, id=id or name[:60])


def check(name, category, platform, metric):
    result = classify(name, category)
    assert (result.platform, result.metric) == (platform, metric), result.evidence


# --------------------------------------------------------------------------------------------
# Real service names from the sample, by panel style

REAL_NAMES = [
    # PerfectPanel-style bracketed names
    case("Instagram Likes [3.1K] [RUSSIA] 💧", "instagram", "likes"),
    case("Instagram Story Views [3K] - All Story", "instagram", "story_views"),
    case("Instagram Saves [ Max 150k | Fast | Real ] INSTANT", "instagram", "saves"),
    case("Instagram Verified Comments", "instagram", "comments"),
    case("Instagram Reel Views [10M] [INSTANT]", "instagram", "views"),
    case("IG Auto Likes (S4  Real  Instant  300-500/h  max 200k)", "instagram", "likes"),
    case("IG Followers [ No Refill ] 15k/hour - High Drop", "instagram", "followers"),
    case("Youtube Subscribers [1.5K] [Refill 30] ⚡", "youtube", "subscribers"),
    case("Youtube - NEW ZEALAND Views S3 [ 20k-50k/day ] [ LIFETIME REFILL ] INSTANT", "youtube", "views"),
    case("ID348 - Youtube USA Comments [HQ] [RANDOM] [500] [500/D] [R30] ⚡️⚡⭐🔥💧", "youtube", "comments"),
    case("Youtube Shares [150K]", "youtube", "shares"),
    case("Tiktok - Followers [ SUPERFAST ] [ Max - 50k ] SUPER INSTANT", "tiktok", "followers"),
    case("ID 742-Tik Tok Views - 1m Per Day", "tiktok", "views"),
    case("Twitter Retweets - USA [ 30 days refill ]", "twitter", "retweets"),
    case("Twitter Favorites - USA [ 30 days refill ] INSTANT", "twitter", "favorites"),
    case("Twitter Views [1M] ⚡️💧⭐", "twitter", "views"),
    case("Telegram Channel Members [Instant Start] [ 200K ]", "telegram", "members"),
    case("ID 930-Discord Members - Non Drop - {Max 5k}", "discord", "members"),
    case("Soundcloud Plays - [ Max - UNLIMATED ] [ ULTRAFAST ] SUPER INSTANT", "soundcloud", "plays"),
    case("Soundcloud Reposts  0-1 hour start time  1 000-2 000/day speed", "soundcloud", "reposts"),
    case("Pinterest - Followers [ 5k-10k/day ] INSTANT", "pinterest", "followers"),
    case("Pinterest RePins [10M]", "pinterest", "repins"),
    case("Tumblr Reblogs [R30] [2K] ⚡️💧", "tumblr", "reblogs"),
    case("Twitch Channel views [500K] 🔥", "twitch", "views"),
    case("LinkedIn Endorsements [ USA ]", "linkedin", "endorsements"),
    case("ID2469 - 90 Quora Answer Upvotes [14 Days] ⭐🔥", "quora", "votes"),
    case("IMDb Votes 10 Star [10K] [R∞] [6H - 1K/Day]", "imdb", "votes"),
    case("ID1894 - IMDb Reviews 2 Star [5-100/D - 0-8H] [R∞] ⚡️⭐🔥💧", "imdb", "reviews"),
    case("Reverbnation Fans [500K] ♻️", "reverbnation", "fans"),
    case("Facebook Post Wow Reactions S2 😯", "facebook", "reactions"),
    case("Facebook Group Members [REAL] [10K]", "facebook", "members"),
    # Spotify: plays vs followers vs monthly listeners vs saves
    case("ID3600 - Spotify Plays N1 [High Speed #2] [INSTANT] [💎SUPER FAST / SAFE] ⚡️⚡️⚡️⭐🔥💧👍🏻🆕", "spotify", "plays"),
    case("Spotify Playlist Followers [100K] ⚡️♻️", "spotify", "followers"),
    case("🇮🇹Spotify ITALY Monthly Listeners  [12H - 3K/Day]", "spotify", "listeners"),
    case("🇧🇪Spotify Belgium (BE) Saves [For Track] [1-12H - 15k / Day]", "spotify", "saves"),
    case("Spotify Plays/Streams(Enter Tracks not album) - Multiples of 1 000", "spotify", "plays"),
    # Separators, id prefixes and styled Unicode as real panels write them
    case("279 | 𝓝𝙚𝔀 - YouTube - Likes | Max 15k | Life time Refill | 0 to 1 hrs start", "youtube", "likes"),
    case("ID: 788 - 𝔅𝗲𝙨𝘁 ☞ [REAL] Instagram Impressions [Profile Visite] [10k] [10k/hour] [0-1h]", "instagram", "impressions"),
    case("♛ Instagram -[J-1] Followers [ Max - 10k ] [ 5K DAY ] [ No Refill ] INSTANT-1HRS", "instagram", "followers"),
    case("🎵 SoundCloud Fast - 𝗣𝗹𝗮𝘆𝘀 - [1.5M] ⚡️⭐", "soundcloud", "plays"),
    case("Instagram | Followers [Min: 100 | Max: 20K] [R15] ⚡️", "instagram", "followers"),
]


@pytest.mark.parametrize(("name", "category", "platform", "metric"), REAL_NAMES)
def test_real_service_names(name, category, platform, metric):
    check(name, category, platform, metric)


# --------------------------------------------------------------------------------------------
# Hard cases the issue names

WEBSITE_TRAFFIC = [
    case("Traffic from Instagram", "website", "traffic"),
    case("Website Traffic from Facebook", "website", "traffic"),
    case("Visitors from YouTube", "website", "visitors"),
    case("USA Traffic from Instagram [12H - 10K/Day]", "website", "traffic"),
    case("Indonesia Traffic from YouTube [12H - 10K/Day]", "website", "traffic"),
    case("🔍 Spain Traffic from Google.com Search [Organic] [Custom Keywords]", "website", "traffic"),
    case("Website Traffic From - (Instagram) Instant", "website", "traffic"),
    case("ID: 583 - Web Traffic [INSTAGRAM] [Max 1M] [50k/day]", "website", "traffic"),
    case("Real Website Traffic [INSTAGRAM REFERRER] [10M] ⚡️⛔️ 🔥", "website", "traffic"),
    case("India Traffic from snapdeal.com", "website", "traffic", id="snapdeal-is-not-snapchat"),
    case("WorldWide Traffic - Direct Visits", "website", "traffic"),
    case("60K WorldWide Pageviews [Long Sessions]", "website", "traffic"),
    case("USA Social Shares from Reddit", "website", "shares", id="only-a-source-named"),
    case("Tráfego de Instagram", "website", "traffic", id="pt-weak-source-word"),
    case("Tráfico web desde Facebook", "website", "traffic", id="es-source-word"),
    # ... but a source named after the target does not move the target
    case("Youtube Shares (FB referrer)", "youtube", "shares"),
    case("ID347 - Youtube Shares [100K] [WHATSAPP REFERRER - 2K/D] ⚡️⚡️⚡️⭐🔥💧", "youtube", "shares"),
    case("YouTube Watchtime Views - Facebook source | Watch Times 50 - 60 Minutes", "youtube", "views"),
    case("Instagram Followers [from Facebook Ads]", "instagram", "followers"),
    case("Seguidores de Instagram", "instagram", "followers", id="pt-de-is-of-not-from"),
    case("Instagram Likes from Brazil", "instagram", "likes"),
]

COUNTRY_TARGETING = [
    case("USA Instagram Followers", "instagram", "followers"),
    case("🇧🇷 Youtube Views | 1M | BRAZIL | 1H - 10K+/Day |", "youtube", "views"),
    case("🇸🇦Instagram Comments [from 10K+ Followers accounts] [Random ARABIC 5 Comments] [1 Hour Delivery]", "instagram", "comments"),
    case("🇧🇷 ( Amazonas ) Instagram Followers by state [ 30 Days Refill ]", "instagram", "followers", id="amazonas-is-not-amazon"),
    case("Instagram Followers - [ BRAZIL - Amazonas ] [ R20 ] [ Real  HQ ] SUPER INSTANT", "instagram", "followers"),
    case("Youtube Mexico Views [ 10K-50K+/D - 2-5 Mins+ HR - Lifetime ] 🍓⚡️⚡️⭐🔥", "youtube", "views"),
    case("Poland Traffic from  Twitch.tv", "website", "traffic"),
]

STYLED_UNICODE = [
    case("𝐈𝐧𝐬𝐭𝐚𝐠𝐫𝐚𝐦 𝐅𝐨𝐥𝐥𝐨𝐰𝐞𝐫𝐬", "instagram", "followers", id="math-bold"),
    case("Instagram REAL HQ Followers | 𝐍𝐎𝐍 𝐃𝐑𝐎𝐏!! | Super Fast! 🔥🔥365 Days Guarantee!!", "instagram", "followers"),
    case("ＩＮＳＴＡＧＲＡＭ ＬＩＫＥＳ", "instagram", "likes", id="fullwidth"),
    case("Ⓘⓝⓢⓣⓐⓖⓡⓐⓜ Followers", "instagram", "followers", id="circled"),
    case("ɪɴsᴛᴀɢʀᴀᴍ ꜰᴏʟʟᴏᴡᴇʀꜱ", "instagram", "followers", id="small-capitals"),
    case("TikTok Followers | Non Drop | Fast | HQ &amp;amp; Data Real | Refill 3 Day | 20K - 50K/Day", "tiktok", "followers", id="double-escaped-entity"),
    case("Facebook 𝐏𝐎𝐋𝐋 Votes | Max 20k", "facebook", "poll_votes"),
    case("✔️ 𝓝̷𝓮̷𝔀̷ FB Video Views Non Drop (Instant Start  Speed 1k-2k/day)", "facebook", "video_views", id="combining-overlay"),
]

METRIC_CONVENTIONS = [
    # Comment likes are likes (the real labels never split them out).
    case("Instagram Comment Likes [10K] [SPECIFIC COMMENT]", "instagram", "likes"),
    case("Instagram Comments Likes [ Like on comment ] [ Min 20 - Max 4000 ]", "instagram", "likes"),
    case("Facebook - Comment/Album Likes", "facebook", "likes"),
    case("ID1537 - Youtube Comments Likes [REAL] [UPVOTES] [30K] ⚡️⚡⭐🔥💧", "youtube", "likes"),
    # Subscribers vs members vs followers, by platform
    case("YouTube Subscribers", "youtube", "subscribers"),
    case("YouTube Followers", "youtube", "subscribers", id="youtube-followers-are-subscribers"),
    case("Telegram Members", "telegram", "members"),
    case("Telegram Channel Subscribers", "telegram", "members"),
    case("Discord Members", "discord", "members"),
    case("Twitch Prime Subscribers [1K] [1.5$ Each]", "twitch", "subscribers"),
    # Views: YouTube "views", Facebook "video views", live streams are views
    case("Facebook Video Views [ Instant and Max 1m ]", "facebook", "video_views"),
    case("ID1760 - Facebook Video Real Views [1M] [300K to 500K]", "facebook", "views", id="video-real-views"),
    case("Facebook Live Stream Views [1K] [120'] ⚡️⭐", "facebook", "views"),
    case("Youtube Live Stream Views - Instant Start", "youtube", "views"),
    case("IGTV Views [1M]", "instagram", "views"),
    case("Instagram Live Video Views [30K] [INSTANT - FOR 20 MINUTES ONLY]", "instagram", "video_views"),
    case("ID 7-Youtube Ads Views - Stream Ads - { price increased }", "youtube", "ad_views"),
    case("ID3920- YouTube Views - Instant Adwords Ads Views - 500K+", "youtube", "ad_views", id="refinement-named-later"),
    case("Youtube Views [AdWords - 1M+ - MIN 5K]", "youtube", "views"),
    case("ID3757 - YouTube Watch Time Views [ Below 10 Mins Videos Fast HR ]", "youtube", "views"),
    case("♛ YouTube Watchtime [1000 Hours] [Monetization Safe] [100% Real] [ Non Drop ]", "youtube", "watch_time"),
    case("Story Views", None, "story_views"),
    case("Facebook Story Views [1K] [1H - 1K/Day]", "facebook", "story_views"),
    # Reactions: their own metric, unless sold as likes of one reaction type
    case("Facebook Post Love Reactions ❤️", "facebook", "reactions"),
    case("Facebook - Emoticons Post Likes S1 [ Love ] 1-12HRS", "facebook", "likes"),
    # Page likes, reviews, installs
    case("Facebook Page Likes", "facebook", "page_likes"),
    case("ID 67-Facebook page Likes + Page Followers - 30 days refill - (10$)", "facebook", "page_likes"),
    case("Facebook Fan Page Likes ( Fast ) ( 5k Max )No refill", "facebook", "page_likes"),
    case("Google Maps Reviews", "google", "reviews"),
    case("ID 1083-Google Business Review [INDIA] [5 Star }", "google", "reviews"),
    case("App installs Android", "app", "installs"),
    case("Google Play Store App Download", "app", "downloads", id="google-play-is-the-app-store"),
    case("Android App Install + 5 Stars Positive Rates + Customs or Random Reviews", "app", "reviews", id="install-yields-to-review"),
    case("ID2167 - iOS or Android App Install [CL - 10M] [60/D] [$0.20 Each] ⚡️⚡️⭐🔥", "app", "installs"),
    # Bundles: the first-named metric, the unit the quantity counts
    case("Instagram Views + Impressions  [5M] [Instant - 1hours]", "instagram", "views"),
    case("Instagram Auto Likes + Impressions", "instagram", "likes"),
    case("Instagram Reach + Impressions [100K] ⚡️💧🔥", "instagram", "impressions", id="reach-is-weak"),
    case("Android App - Rating + Review ~ 4/5 Start ~ Worldwide", "app", "reviews", id="rating-is-weak"),
    # Qualifiers that are not the product
    case("Instagram Comments [from VERIFIED accounts] [Random - 0.25$ Per Comment]", "instagram", "comments"),
    case("Instagram Comments [from 10K+ Followers accounts] [Random 5 Comments] [1 Hour Delivery]", "instagram", "comments"),
    case("ID2555 - Youtube Best SEO Ranking Real Views [Lifetime Refill - 20M+]", "youtube", "views"),
    case("Youtube USA Live Stream Chat Comments [1500]", "youtube", "comments"),
    case("Twitter Poll Votes", "twitter", "poll_votes"),
    case("X Reposts", "twitter", "retweets"),
    case("Retweets [Max 10K]", "twitter", "retweets", id="metric-implies-platform"),
    case("Monthly Listeners [USA]", "spotify", "listeners", id="hint-monthly-listeners"),
]

PLATFORM_PRECEDENCE = [
    case("Spotify Podcast Plays", "podcast", "plays", id="podcast-beats-host"),
    case("ID660 - Podcast iTunes / Apple Downloads worldwide (All Episodes) [10M]", "podcast", "downloads"),
    case("Facebook Website Likes", "website", "likes", id="website-beats-position"),
    case("Apple Music Plays [500K] ♻️ 💦🔥", "apple_music", "plays"),
    case("Google Plays Music Plays [500K]", "google", "plays", id="google-play-music"),
    case("ID2494 - Amazon Music Plays [100K - 2K/D - 0-12H - NON-DROP] [R∞]", "amazon", "plays"),
    case("Instagram Threads Followers", "threads", "followers"),
    case("Likee App Post Likes [NR]", "likee", "likes", id="likee-is-not-likes"),
    case("YouTubeWatchtime [ True AdWord ] [ Non Drop ] [ Max 4K ]", "youtube", None, id="glued-platform-name"),
    case("Kick Live Viewers", "kick", "views"),
    case("Trustpilot Reviews [USA]", "trustpilot", "reviews"),
    case("CoinMarketCap Watchlist", "coinmarketcap", None),
    case("Snapchat Followers [REAL]", "snapchat", "followers"),
    case("Clubhouse Followers", "clubhouse", "followers"),
    case("WhatsApp Channel Followers", "whatsapp", "followers"),
]

LANGUAGES = [
    case("TikTok - Người theo dõi | Tối đa 1M | Không bảo hành", "tiktok", "followers", id="vi-followers"),
    case("Facebook - Lượt thích bài viết", "facebook", "likes", id="vi-likes"),
    case("Tiktok Lượt xem", "tiktok", "views", id="vi-views"),
    case("Instagram Seguidores Brasileiros [Reais]", "instagram", "followers", id="pt-followers"),
    case("Curtidas Instagram Brasil", "instagram", "likes", id="pt-likes"),
    case("Visualizações Reels Instagram", "instagram", "views", id="pt-views"),
    case("Seguidores Instagram Latinos", "instagram", "followers", id="es-followers"),
    case("Me gusta Facebook Página", "facebook", "likes", id="es-likes"),
    case("Instagram Türk Takipçi", "instagram", "followers", id="tr-followers"),
    case("INSTAGRAM TAKİPÇİ", "instagram", "followers", id="tr-dotted-capital-i"),
    case("Instagram Türk Beğeni", "instagram", "likes", id="tr-likes"),
    case("YouTube İzlenme", "youtube", "views", id="tr-views"),
    case("YouTube Abone", "youtube", "subscribers", id="tr-subscribers"),
    case("Instagram Pengikut Indonesia", "instagram", "followers", id="id-followers"),
    case("Suka Instagram Indonesia", "instagram", "likes", id="id-likes"),
    case("متابعين انستقرام عرب", "instagram", "followers", id="ar-followers"),
    case("لايكات انستغرام", "instagram", "likes", id="ar-likes"),
    case("مشاهدات يوتيوب", "youtube", "views", id="ar-views"),
    case("Подписчики Телеграм", "telegram", "members", id="ru-telegram-subscribers"),
    case("Просмотры YouTube", "youtube", "views", id="ru-views"),
    case("Лайки Инстаграм", "instagram", "likes", id="ru-likes"),
    case("Abonnés Instagram France", "instagram", "followers", id="fr-followers"),
    case("Vues YouTube", "youtube", "views", id="fr-views"),
    case("Instagram Abonnenten Deutschland", "instagram", "followers", id="de-followers"),
    case("Instagram Visualizzazioni", "instagram", "views", id="it-views"),
    case("ユーチューブ チャンネル登録者", "youtube", "subscribers", id="ja-subscribers"),
    case("抖音 粉丝", "tiktok", "followers", id="zh-followers"),
    case("인스타그램 팔로워", "instagram", "followers", id="ko-followers"),
]

NOTHING_TO_SAY = [
    case("", None, None, id="empty"),
    case("Private server 11", None, None),
    case("Pubg UC 8400 Cash [1H - SAFE]", None, None),
    case("ID 1037 - NR - 10k Day", None, None),
    case("Steam Random Key [OFFICIAL] [Key Value 18.95$+]", None, None),
    case("Followers", None, "followers", id="metric-only"),
    case("Instagram", "instagram", None, id="platform-only"),
    case("The big trip", None, None, id="ig-inside-words"),
]


@pytest.mark.parametrize(("name", "category", "platform", "metric"), WEBSITE_TRAFFIC)
def test_website_traffic_and_traffic_sources(name, category, platform, metric):
    check(name, category, platform, metric)


@pytest.mark.parametrize(("name", "category", "platform", "metric"), COUNTRY_TARGETING)
def test_country_targeting_does_not_confuse(name, category, platform, metric):
    check(name, category, platform, metric)


@pytest.mark.parametrize(("name", "category", "platform", "metric"), STYLED_UNICODE)
def test_styled_unicode_and_entities(name, category, platform, metric):
    check(name, category, platform, metric)


@pytest.mark.parametrize(("name", "category", "platform", "metric"), METRIC_CONVENTIONS)
def test_metric_conventions(name, category, platform, metric):
    check(name, category, platform, metric)


@pytest.mark.parametrize(("name", "category", "platform", "metric"), PLATFORM_PRECEDENCE)
def test_platform_precedence(name, category, platform, metric):
    check(name, category, platform, metric)


@pytest.mark.parametrize(("name", "category", "platform", "metric"), LANGUAGES)
def test_other_languages(name, category, platform, metric):
    check(name, category, platform, metric)


@pytest.mark.parametrize(("name", "category", "platform", "metric"), NOTHING_TO_SAY)
def test_unknown_stays_none(name, category, platform, metric):
    check(name, category, platform, metric)


def test_none_name_is_unknown_not_an_error():
    assert classify(None) == Classification(None, None, ())


# --------------------------------------------------------------------------------------------
# The category


WITH_CATEGORY = [
    case("1K Likes", "instagram", "likes", category="Instagram Likes", id="platform-from-category"),
    case("Real HQ [Refill 30D]", "instagram", "followers", category="Instagram Followers", id="both-from-category"),
    case("Followers [Max 10K]", "tiktok", "followers", category="TikTok", id="category-is-just-a-platform"),
    case("Views [Max 10K]", "instagram", "story_views", category="Instagram Story Views", id="category-refines-metric"),
    case("Views [Max 10K]", "youtube", "views", category="Youtube Views [Adwords]"),
    case("Instagram Likes [10K]", "instagram", "likes", category="TikTok Likes", id="name-platform-wins"),
    case("Instagram Likes [10K]", "instagram", "likes", category="Instagram Followers", id="name-metric-wins"),
    case("Members [Real]", "telegram", "members", category="Telegram Channel", id="alias-applies-to-category-platform"),
    case("Subscribers", "youtube", "subscribers", category="YouTube ⚡ Services"),
    case("Followers", "youtube", "subscribers", category="Youtube"),
    case("Real Accounts [No Drop]", "instagram", "followers", category="Instagram Followers", id="weak-name-metric-yields"),
    case("Traffic from Instagram", "website", "traffic", category="Website Traffic"),
    case("Reels Views", "instagram", "views", category=None, id="hint-without-category"),
    case("Reels Views", "facebook", "views", category="Facebook Reels", id="category-beats-hint"),
]


@pytest.mark.parametrize(("name", "category", "platform", "metric"), WITH_CATEGORY)
def test_category_fills_in(name, category, platform, metric):
    check(name, category, platform, metric)


# --------------------------------------------------------------------------------------------
# Result object, evidence, caching


def test_classification_is_a_small_frozen_value():
    result = classify("Instagram Likes [10K] [LQ] [1H - 1K/Day] 💧")
    assert result == Classification("instagram", "likes", result.evidence)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.platform = "youtube"  # type: ignore[misc]
    assert hash(result) == hash(classify("Instagram Likes [10K] [LQ] [1H - 1K/Day] 💧"))


def test_evidence_names_the_matched_keywords():
    result = classify("Website Traffic from Facebook")
    text = " | ".join(result.evidence)
    assert "metric=traffic: name 'traffic'" in text
    assert "'facebook'" in text and "source" in text
    assert "platform=website: name 'website'" in text


def test_evidence_for_category_and_alias():
    result = classify("Subscribers", "Telegram")
    assert result.platform == "telegram" and result.metric == "members"
    assert any("category" in line for line in result.evidence)
    assert any("subscribers -> members" in line for line in result.evidence)


def test_fold_for_matching():
    assert fold_for_matching("İzlenme TAKİPÇİ") == "izlenme takipci"
    assert fold_for_matching("Người theo dõi") == "nguoi theo doi"
    assert fold_for_matching("ꜰᴏʟʟᴏᴡᴇʀꜱ") == "followers"
    assert fold_for_matching("Подписчики") == "подписчики"


def test_load_taxonomy_is_cached_and_finds_the_repo_config():
    assert load_taxonomy() is load_taxonomy()
    assert load_taxonomy() is load_taxonomy(default_taxonomy_path())
    assert default_taxonomy_path().name == "taxonomy.yaml"


# --------------------------------------------------------------------------------------------
# The vocabulary file

REQUIRED_PLATFORMS = {
    "instagram", "website", "youtube", "facebook", "spotify", "twitter", "soundcloud", "twitch",
    "app", "linkedin", "telegram", "google", "imdb", "tiktok", "pinterest", "podcast", "tumblr",
    "shazam", "vimeo", "mixcloud", "apple_music", "tidal", "periscope", "reverbnation", "quora",
    "reddit", "vk", "audiomack", "dailymotion", "deezer", "amazon", "discord", "threads", "kick",
    "trustpilot", "coinmarketcap", "snapchat", "whatsapp", "clubhouse",
}
REQUIRED_METRICS = {
    "traffic", "views", "likes", "followers", "comments", "plays", "video_views", "reviews",
    "shares", "page_likes", "impressions", "story_views", "subscribers", "saves", "ad_views",
    "votes", "installs", "visitors", "listeners", "retweets", "downloads", "poll_votes", "reposts",
    "members", "favorites", "watch_time", "reactions",
}


def test_vocabulary_covers_the_platforms_and_metrics_seen_in_real_lists():
    taxonomy = load_taxonomy()
    assert REQUIRED_PLATFORMS <= set(taxonomy.platforms)
    assert REQUIRED_METRICS <= set(taxonomy.metrics)


def test_every_platform_and_metric_has_keywords():
    data = yaml.safe_load(default_taxonomy_path().read_text(encoding="utf-8"))
    for kind in ("platforms", "metrics"):
        for ident, spec in data[kind].items():
            assert spec.get("keywords") or spec.get("weak_keywords"), f"{kind}.{ident} has no keywords"


def _minimal(**overrides):
    data = {
        "platforms": {"instagram": {"keywords": ["instagram", "インスタ"]}},
        "metrics": {"followers": {"keywords": ["followers?", "フォロワー"]}},
    }
    for path, value in overrides.items():
        kind, ident, key = path.split("__")
        data[kind].setdefault(ident, {})[key] = value
    return data


def test_a_taxonomy_can_be_built_from_data():
    taxonomy = Taxonomy(_minimal())
    result = taxonomy.classify("Instagram Followers")
    assert (result.platform, result.metric) == ("instagram", "followers")
    # Unspaced scripts match without word boundaries.
    result = taxonomy.classify("インスタフォロワー増加")
    assert (result.platform, result.metric) == ("instagram", "followers")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"metrics__followers__keywords": ["followers("]}, "followers("),
        ({"metrics__followers__keywords": ["(follow)ers"]}, "capturing group"),
        ({"metrics__followers__keywords": ["x?"]}, "matches empty text"),
        ({"metrics__followers__keywords": ["follows|followers"]}, "top-level '|'"),
        ({"platforms__instagram__metric_aliases": {"followers": "fans"}}, "unknown metric 'fans'"),
        ({"metrics__followers__implies_platform": "myspace"}, "unknown platform 'myspace'"),
        ({"platforms__Insta_Gram__keywords": ["insta"]}, "not lower-case snake_case"),
    ],
    ids=["bad-regex", "capturing-group", "empty-match", "top-level-or", "unknown-alias",
         "unknown-implied", "bad-id"],
)
def test_invalid_vocabulary_is_a_clear_error(overrides, message):
    with pytest.raises(TaxonomyError, match=message.replace("(", r"\(")):
        Taxonomy(_minimal(**overrides), source="test.yaml")


def test_unreadable_or_invalid_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(TaxonomyError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("platforms: [unclosed", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(broken)
    empty = tmp_path / "empty.yaml"
    empty.write_text("platforms: {}\nmetrics: {}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="non-empty mapping"):
        load_taxonomy(empty)


# --------------------------------------------------------------------------------------------
# Speed: it runs for every offer of every crawl


def _all_case_names():
    tables = (REAL_NAMES, WEBSITE_TRAFFIC, COUNTRY_TARGETING, STYLED_UNICODE, METRIC_CONVENTIONS,
              PLATFORM_PRECEDENCE, LANGUAGES)
    return [param.values[0] for table in tables for param in table]


def test_classify_is_fast_uncached_and_cached():
    names = _all_case_names()
    # A fresh instance has an empty cache; suffixes make every name new, as on a new panel.
    taxonomy = Taxonomy(yaml.safe_load(default_taxonomy_path().read_text(encoding="utf-8")))
    fresh = [f"{name} [{index}K] [R{index % 90}]" for index in range(12) for name in names]
    start = time.perf_counter()
    for name in fresh:
        taxonomy.classify(name)
    uncached = (time.perf_counter() - start) / len(fresh)
    start = time.perf_counter()
    for _ in range(20):
        for name in fresh:
            taxonomy.classify(name)
    cached = (time.perf_counter() - start) / (20 * len(fresh))
    print(f"\nclassify: {uncached * 1e6:.1f} us uncached, {cached * 1e6:.2f} us cached per call")
    assert uncached < 300e-6
    assert cached < 30e-6
