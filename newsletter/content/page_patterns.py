"""What the copied-page reader recognises: the line patterns and word lists of web-page furniture.

Patterns match one line (a :class:`~newsletter.content.page_lines.Unit`'s text, whitespace runs
collapsed) unless said otherwise. Each takes time linear in the line's length: no run of
characters two parts of a pattern could share is left to backtracking (``X*[0-9]X*`` becomes a
digit look-ahead and one possessive ``X*+``; ``[space]*-?[space]*`` is possessive).
"""
from __future__ import annotations

import re

BULLET = re.compile(r"^(?:[•◦▪▫‣∙●○■□►▶➤✓✔→*+]|-|–)\s+(\S.*)$")
NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+(\S.*)$")
RULE = re.compile(r"^([-*_=~—•·])(?:\s*+\1){2,}+$")
STRONG_ATTRIBUTION = re.compile(r"^(?:—|―|--)\s*(\S.{0,80})$")
WEAK_ATTRIBUTION = re.compile(r"^(?:-|–|~)\s*(\S.{0,80})$")
READ_TIME = re.compile(
    r"(?i)(?:reading\s+time:?\s*)?(?<!\d)(\d{1,3})\s*+-?\s*+min(?:ute)?s?\.?(?:\s*read(?:ing)?)?(?:\s*time)?")
VIEWS = re.compile(r"(?i)(?<![\w.,])[\d.,]++\s*+[km]?\s*+(?:views?|reads|comments?|likes?|shares?|claps?|responses?)\b")
TIME = re.compile(r"(?i)\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?"
                  r"(?:\s+(?:[A-Z]{2,4}|UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)?(?!\d)")
AGO = re.compile(r"(?i)\b(?:updated\s+)?\d+\s+(?:seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?)\s+ago\b")
BYLINE = re.compile(r"(?i)^(?:by|written\s+by|posted\s+by|words\s+by|author)\s*:?\s+(\S.*)$")
META_FILLER = re.compile(
    r"(?i)^(?:updated|last\s+updated|published|posted|on|at|follow|share|listen|save|"
    r"min\s+read|read|and|·|\||•|-|–|—|,|"
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?)$")  # a weekday by a date
SEPARATORS = re.compile(r"\s*(?:[|·•]|\s[-–—]\s)\s*")
MENU_RUN = re.compile(r"(?:[A-Z][a-z]+){3,}")  # menu words run together: "HomeNewsSportBusiness"
JUNK_WORDS = frozenset(
    "share tweet follow following listen save print email copy link advertisement ad sponsored "
    "facebook twitter x linkedin whatsapp pinterest reddit telegram loading skip to main content "
    "back top scroll continue reading below see show more subscribe sign up in log login "
    "bookmark like clap comment comments".split())
NAV_WORDS = frozenset(
    "home news markets market opinion politics business tech technology world sports sport "
    "culture finance economy crypto cryptocurrency stocks investing money about contact menu "
    "subscribe login search blog latest trending video videos podcasts podcast newsletter "
    "newsletters lifestyle health science entertainment travel food style arts books us u.s. "
    "uk europe asia analysis features more shop deals reviews guides careers energy commodities "
    "forex personal real estate skip to content main toggle navigation close account watchlist "
    "portfolio sign in log up policy economics local national international live".split())
END = re.compile(
    r"(?i)^(?:related(?:\s+(?:articles|posts|stories|content|reading|news))?|you\s+(?:may|might)\s+(?:also\s+)?like"
    r"|more\s+(?:from|on|in)\b.{0,40}|recommended(?:\s+for\s+you|\s+articles|\s+reading)?|read\s+next|up\s+next"
    r"|trending(?:\s+now)?|popular\s+(?:posts|articles|stories)|latest\s+(?:news|posts|articles)"
    r"|leave\s+a\s+(?:reply|comment)|comments?(?:\s*\(\d+\))?|\d+\s+comments?|share\s+this(?:\s+(?:article|post|story))?:?"
    r"|tags?:.*|filed\s+under:?.*|categories:.*|©.*|copyright\s+.*|all\s+rights\s+reserved.*"
    r"|(?:subscribe|sign\s+up)\s+(?:to|for)\s+(?:our|the)\s+newsletter.*"
    r"|(?:additional\s+)?reporting\s+by\s+.{3,200};\s*(?:editing|writing)\s+by\s+.*|our\s+standards:.*|suggested\s+topics:?|more\s+on\s+this\s+story)$")
AUTHOR_MARK = re.compile(r"(?i)^(?:about\s+(?:the\s+)?author|the\s+author|author|written\s+by)\s*:?$")
PAYWALL = re.compile(
    r"(?i)^(?:continue\s+reading|read\s+(?:the\s+)?(?:full|rest\s+of\s+the)\s+(?:article|story)|"
    r"subscribe\s+to\s+(?:continue|read)|to\s+continue\s+reading|this\s+(?:article|content|story)\s+is\s+"
    r"(?:for|available\s+to)\s+(?:subscribers|members)|(?:already\s+a\s+subscriber|register\s+to\s+read)).*$")
DISCLAIMER = re.compile(
    r"(?i)(disclaimer|not\s+(?:financial|investment|legal|tax)\s+advice|for\s+(?:general\s+)?"
    r"(?:informational|educational|information)\s+purposes\s+only|may\s+have\s+changed\s+since\s+publication"
    r"|analysis\s+from\s+\d|past\s+performance\s+(?:is|does)\s+not|do\s+your\s+own\s+research"
    r"|contains\s+affiliate\s+links|this\s+(?:post|article)\s+(?:is|was)\s+sponsored)")
ROLE = re.compile(  # the line under a byline name: "Business reporter, BBC News"
    r"(?i)^(?:[\w.'’&-]+\s+){0,3}(?:reporter|correspondent|editor|writer|columnist|analyst|contributor"
    r"|journalist)(?:[,|·]\s*\S.{0,40})?$")
CREDIT = re.compile(  # a picture credit left where the lead image was
    r"(?i)^(?:(?:image|photo|picture)(?:\s+(?:credit|source))?:?\s*)?(?:getty\s+images|reuters|afp"
    r"|ap(?:\s+photo)?|epa|shutterstock|alamy|bloomberg|pa\s+media)(?:\s*/\s*\S.{0,40})?$")
TICKER = re.compile(  # a stock-quote widget's ticker line: "NASDAQ: PEP", "(NYSE: KO)"
    r"^\(?(?:NASDAQ|NYSE(?:\s*(?:MKT|American|Arca))?|AMEX|OTC(?:QX|QB|MKTS)?|TSXV?|LSE|ASX|CBOE)"
    r"\s*:\s*[A-Z][A-Z0-9.-]{0,6}\)?$")
QUOTE_FIGURE = re.compile(r"^(?=\D*+\d)[-+−–—$€£¥()%.,\d\s]*+[%BMKT]?\)?$")  # "+1.2%", "$200B"
QUOTE_LABEL = re.compile(  # "Market Cap: $200B", "Today's Change", "52-Week Range", "Volume: 5.2M"
    r"(?i)^(?:market\s+cap(?:italization)?|today['’]?s\s+change|current\s+price|day['’]?s\s+range"
    r"|52[-\s]?week\s+(?:range|high|low)|volume|avg\.?\s+vol(?:ume)?|average\s+volume|dividend\s+yield"
    r"|gross\s+margin|p/?e\s+ratio|key\s+data\s+points)(?:\s*:\s*|\s+)?"
    r"(?:(?=\D*+\d)[-+−–—$€£¥()%.,\d\s]*+[%BMKT]?\)?)?$")
PRICE_AS_OF = re.compile(r"(?i)^prices?\s+as\s+of\s+\S.{0,60}$")
KEY_POINTS = re.compile(r"(?i)^key\s+(?:points|takeaways)\s*:?$")
WRITTEN_BY = re.compile(r"(?i)^written\s+by\s+\S")  # Medium's author block: "Written by Name"
PUNCTUATION_ONLY = re.compile(r"[^\w\s]{1,2}")  # a lone "·" or "--" between page parts
BIO_JUNK = re.compile(r"(?i)^(?:[\d.,]++(?:\s*+[km])?\s++followers|view\s+all\s+(?:posts|articles)|see\s+all"
                      r"|more\s+articles\s+by|follow\b|contact\b.{0,20}$)")
