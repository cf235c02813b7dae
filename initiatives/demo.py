"""
The demo data set: real cities, plans and initiatives, loaded by ``manage.py seed_demo``.

Facts and illustrations
-----------------------
Records describe real initiatives wherever the facts are well documented, and each
one carries its references: initiatives have ``Source`` rows, and jurisdictions,
plans, organizations and coalitions a ``source_url``. Anything invented to round
out the demo (a pilot, a coalition, a workflow in progress) is marked
``is_illustrative``. Models without that flag stay honest another way: milestones
with dates relative to today, and measurements without a source, only hang off
illustrative initiatives; an illustrative link says so in its note.

OCD division ids
----------------
Jurisdictions use the official Open Civic Data id wherever OCD has the division,
because ``import_divisions`` matches rows by ``ocd_id``: a later import of the
official files then finds these rows instead of adding twins. Where OCD has no
division the Atlas mints an id and sets ``ocd_id_minted``:

- a French commune: ``<parent division id>/commune:<name>``, the name lowercased
  with spaces and apostrophes turned into underscores and accents kept, as OCD
  ids allow lowercase Unicode letters (Lyon is
  ``ocd-division/country:fr/region:ar/department:rh/commune:lyon``);
- a US metropolitan area: ``<state division id>/metro:<name>`` by the same rule
  (``ocd-division/country:us/state:il/metro:chicago``).

Idempotence
-----------
Every row is found by a natural key (``ocd_id``, ``slug``, ``username``, or its
parent plus title, name or role) and updated in place, so a second run changes
no counts. Relative milestone dates are recomputed from today on each run, which
moves the same rows rather than adding new ones. Rows that did not change are not
saved again, so their history does not grow either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from cities.models import Jurisdiction
from council.models import Coalition, CoalitionMembership, CouncilMembership, Organization
from initiatives.models import (
    ContentLanguage,
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Sector,
    Source,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

M = TypeVar("M", bound=models.Model)

Kind = Jurisdiction.Kind
OrgKind = Organization.Kind
Status = Initiative.Status
State = PublicationState
Role = Partnership.Role
Member = CoalitionMembership.Role
Council = CouncilMembership.Role
EN = ContentLanguage.ENGLISH
FR = ContentLanguage.FRENCH

# A fixed date, or a number of days from the seeding date (negative: in the past).
Day = date | int


# ------------------------------------------------------------------------------
# Minting OCD ids
# ------------------------------------------------------------------------------

_UNDERSCORED = re.compile(r"[\s'\u2019]")


def _id_value(name: str) -> str:
    return _UNDERSCORED.sub("_", name.strip().lower())


def minted_commune_id(*, parent_ocd_id: str, name: str) -> str:
    """The Atlas's id for a French commune, which OCD does not list."""
    return f"{parent_ocd_id}/commune:{_id_value(name)}"


def minted_metro_id(*, state_ocd_id: str, name: str) -> str:
    """The Atlas's id for a US metropolitan area, which OCD does not list."""
    return f"{state_ocd_id}/metro:{_id_value(name)}"


# ------------------------------------------------------------------------------
# Specs
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JurisdictionSpec:
    slug: str
    name: str
    kind: str
    ocd_id: str
    parent: str | None
    iso_code: str = ""
    wikidata_qid: str = ""
    geonames_id: int | None = None
    population: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str = ""
    website: str = ""
    description: str = ""
    source_url: str = ""
    ocd_id_minted: bool = False


@dataclass(frozen=True)
class OrganizationSpec:
    slug: str
    name: str
    kind: str
    jurisdiction: str | None
    source_url: str
    website: str = ""
    description: str = ""


@dataclass(frozen=True)
class PlanSpec:
    slug: str
    jurisdiction: str
    title: str
    summary: str
    source_url: str
    language: str = EN
    published_on: date | None = None
    url: str = ""
    publication_state: str = State.PUBLISHED
    is_illustrative: bool = False


@dataclass(frozen=True)
class SourceSpec:
    title: str
    url: str
    kind: str = Source.Kind.SOURCE


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    due: Day
    completed: Day | None = None


@dataclass(frozen=True)
class MeasurementSpec:
    measured_on: date
    value: str
    # Empty for the invented values of illustrative initiatives.
    source_url: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    unit: str
    measurements: tuple[MeasurementSpec, ...]
    baseline: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class InitiativeSpec:
    slug: str
    jurisdiction: str
    title: str
    summary: str
    status: str
    focus_areas: tuple[str, ...]
    sectors: tuple[str, ...]
    sources: tuple[SourceSpec, ...]
    lead: str | None = None
    partners: tuple[tuple[str, str], ...] = ()
    plan: str | None = None
    language: str = EN
    description: str = ""
    publication_state: str = State.PUBLISHED
    start_date: date | None = None
    end_date: date | None = None
    budget: tuple[str, str] | None = None
    milestones: tuple[MilestoneSpec, ...] = ()
    indicators: tuple[IndicatorSpec, ...] = ()
    is_illustrative: bool = False


@dataclass(frozen=True)
class LinkSpec:
    source: str
    target: str
    kind: str
    note: str


@dataclass(frozen=True)
class MemberSpec:
    organization: str
    role: str
    since: date | None
    until: date | None = None


@dataclass(frozen=True)
class CoalitionSpec:
    slug: str
    jurisdiction: str
    name: str
    description: str
    source_url: str
    members: tuple[MemberSpec, ...]
    founded_on: date | None = None
    website: str = ""
    is_illustrative: bool = False


@dataclass(frozen=True)
class AccountSpec:
    username: str
    first_name: str
    last_name: str
    is_superuser: bool = False
    jurisdiction: str | None = None
    role: str | None = None
    public_name: str = ""

    @property
    def label(self) -> str:
        if self.is_superuser:
            return f"{self.username} (staff, superuser)"
        return f"{self.username} ({self.role} of {self.jurisdiction})"


def _wikidata(qid: str) -> str:
    return f"https://www.wikidata.org/wiki/{qid}"


# ------------------------------------------------------------------------------
# Jurisdictions
# ------------------------------------------------------------------------------

US = "ocd-division/country:us"
IL = f"{US}/state:il"
FRANCE = "ocd-division/country:fr"
RHONE = f"{FRANCE}/region:ar/department:rh"

_CENSUS = "Population: 2020 U.S. Census."
_INSEE = "Population: INSEE, populations légales 2021."

JURISDICTIONS: tuple[JurisdictionSpec, ...] = (
    JurisdictionSpec(
        slug="united-states",
        name="United States",
        kind=Kind.COUNTRY,
        ocd_id=US,
        parent=None,
        iso_code="US",
        wikidata_qid="Q30",
        geonames_id=6252001,
        population=331_449_281,
        latitude=39.828175,
        longitude=-98.5795,
        # The country spans six time zones, so it gets none of its own.
        website="https://www.usa.gov/",
        description=f"Federal republic of fifty states. {_CENSUS}",
        source_url=_wikidata("Q30"),
    ),
    JurisdictionSpec(
        slug="illinois",
        name="Illinois",
        kind=Kind.STATE,
        ocd_id=IL,
        parent="united-states",
        iso_code="US-IL",
        wikidata_qid="Q1204",
        geonames_id=4896861,
        population=12_812_508,
        latitude=40.0,
        longitude=-89.0,
        time_zone="America/Chicago",
        website="https://www.illinois.gov/",
        description=f"Midwestern state; home of Chicago and of **Connect Illinois**. {_CENSUS}",
        source_url=_wikidata("Q1204"),
    ),
    JurisdictionSpec(
        slug="chicago-metro",
        name="Chicago metropolitan area",
        kind=Kind.METRO,
        ocd_id=minted_metro_id(state_ocd_id=IL, name="Chicago"),
        parent="illinois",
        # The metro area reaches into Indiana and Wisconsin, but the Atlas files it
        # under the state of its principal city; it has no ISO code of its own.
        population=9_618_502,
        latitude=41.8781,
        longitude=-87.6298,
        time_zone="America/Chicago",
        website="https://cmap.illinois.gov/",
        description=(
            "Chicagoland: Chicago and its suburbs, as the Chicago-Naperville-Elgin "
            "metropolitan statistical area. The OCD id is minted by the Atlas. "
            "Population: 2020 U.S. Census (MSA)."
        ),
        source_url="https://en.wikipedia.org/wiki/Chicago_metropolitan_area",
        ocd_id_minted=True,
    ),
    JurisdictionSpec(
        slug="chicago",
        name="Chicago",
        kind=Kind.PLACE,
        ocd_id=f"{IL}/place:chicago",
        parent="chicago-metro",
        wikidata_qid="Q1297",
        geonames_id=4887398,
        population=2_746_388,
        latitude=41.881944,
        longitude=-87.627778,
        time_zone="America/Chicago",
        website="https://www.chicago.gov/",
        description=(
            "Third-largest US city. Its 2013 **Technology Plan** set out 28 initiatives "
            f"in five strategies. {_CENSUS}"
        ),
        source_url=_wikidata("Q1297"),
    ),
    JurisdictionSpec(
        slug="new-york",
        name="New York",
        kind=Kind.STATE,
        ocd_id=f"{US}/state:ny",
        parent="united-states",
        iso_code="US-NY",
        wikidata_qid="Q1384",
        geonames_id=5128638,
        population=20_201_249,
        latitude=43.0,
        longitude=-75.0,
        time_zone="America/New_York",
        website="https://www.ny.gov/",
        description=f"Northeastern state. {_CENSUS}",
        source_url=_wikidata("Q1384"),
    ),
    JurisdictionSpec(
        slug="new-york-city",
        name="New York City",
        kind=Kind.PLACE,
        ocd_id=f"{US}/state:ny/place:new_york",
        parent="new-york",
        wikidata_qid="Q60",
        geonames_id=5128581,
        population=8_804_190,
        latitude=40.712778,
        longitude=-74.006111,
        time_zone="America/New_York",
        website="https://www.nyc.gov/",
        description=(
            "Largest US city. Its 2011 **Road Map for the Digital City** was written by "
            f"the city's first Chief Digital Officer. {_CENSUS}"
        ),
        source_url=_wikidata("Q60"),
    ),
    JurisdictionSpec(
        slug="massachusetts",
        name="Massachusetts",
        kind=Kind.STATE,
        ocd_id=f"{US}/state:ma",
        parent="united-states",
        iso_code="US-MA",
        wikidata_qid="Q771",
        geonames_id=6254926,
        population=7_029_917,
        latitude=42.3,
        longitude=-71.8,
        time_zone="America/New_York",
        website="https://www.mass.gov/",
        description=f"New England state. {_CENSUS}",
        source_url=_wikidata("Q771"),
    ),
    JurisdictionSpec(
        slug="boston",
        name="Boston",
        kind=Kind.PLACE,
        ocd_id=f"{US}/state:ma/place:boston",
        parent="massachusetts",
        wikidata_qid="Q100",
        geonames_id=4930956,
        population=675_647,
        latitude=42.358056,
        longitude=-71.063611,
        time_zone="America/New_York",
        website="https://www.boston.gov/",
        description=(
            "Capital of Massachusetts, home of the Mayor's Office of New Urban Mechanics. "
            f"{_CENSUS}"
        ),
        source_url=_wikidata("Q100"),
    ),
    JurisdictionSpec(
        slug="texas",
        name="Texas",
        kind=Kind.STATE,
        ocd_id=f"{US}/state:tx",
        parent="united-states",
        iso_code="US-TX",
        wikidata_qid="Q1439",
        geonames_id=4736286,
        population=29_145_505,
        latitude=31.0,
        longitude=-100.0,
        # Most of Texas keeps Central time; the far west (El Paso) keeps Mountain.
        time_zone="America/Chicago",
        website="https://www.texas.gov/",
        description=f"Second-largest US state. {_CENSUS}",
        source_url=_wikidata("Q1439"),
    ),
    JurisdictionSpec(
        slug="austin",
        name="Austin",
        kind=Kind.PLACE,
        ocd_id=f"{US}/state:tx/place:austin",
        parent="texas",
        wikidata_qid="Q16559",
        geonames_id=4671654,
        population=961_855,
        latitude=30.267222,
        longitude=-97.743056,
        time_zone="America/Chicago",
        website="https://www.austintexas.gov/",
        description=(
            f"Capital of Texas; adopted a Digital Inclusion Strategic Plan in 2014. {_CENSUS}"
        ),
        source_url=_wikidata("Q16559"),
    ),
    JurisdictionSpec(
        slug="france",
        name="France",
        kind=Kind.COUNTRY,
        ocd_id=FRANCE,
        parent=None,
        iso_code="FR",
        wikidata_qid="Q142",
        geonames_id=3017382,
        # Metropolitan France and four overseas departments; Mayotte is not yet in
        # the legal populations.
        population=67_408_052,
        latitude=46.6,
        longitude=2.2,
        time_zone="Europe/Paris",
        website="https://www.gouvernement.fr/",
        description=f"Unitary republic of 18 regions. {_INSEE} (France hors Mayotte.)",
        source_url=_wikidata("Q142"),
    ),
    JurisdictionSpec(
        slug="ile-de-france",
        name="Île-de-France",
        kind=Kind.REGION,
        ocd_id=f"{FRANCE}/region:if",
        parent="france",
        iso_code="FR-IDF",
        wikidata_qid="Q13917",
        geonames_id=3012874,
        population=12_317_279,
        latitude=48.7,
        longitude=2.5,
        time_zone="Europe/Paris",
        website="https://www.iledefrance.fr/",
        description=f"Région capitale, la plus peuplée de France. {_INSEE}",
        source_url=_wikidata("Q13917"),
    ),
    JurisdictionSpec(
        slug="paris",
        name="Paris",
        # OCD models Paris as the department "Ville de Paris"; the Atlas treats it
        # as the city it is.
        kind=Kind.PLACE,
        ocd_id=f"{FRANCE}/region:if/department:vp",
        parent="ile-de-france",
        iso_code="FR-75C",
        wikidata_qid="Q90",
        geonames_id=2988507,
        population=2_133_111,
        latitude=48.856613,
        longitude=2.352222,
        time_zone="Europe/Paris",
        website="https://www.paris.fr/",
        description=(
            "Capitale de la France. Open Civic Data la range comme département "
            f"« Ville de Paris ». {_INSEE}"
        ),
        source_url=_wikidata("Q90"),
    ),
    JurisdictionSpec(
        slug="auvergne-rhone-alpes",
        name="Auvergne-Rhône-Alpes",
        kind=Kind.REGION,
        ocd_id=f"{FRANCE}/region:ar",
        parent="france",
        iso_code="FR-ARA",
        wikidata_qid="Q18338206",
        geonames_id=11071625,
        population=8_114_361,
        latitude=45.5,
        longitude=4.5,
        time_zone="Europe/Paris",
        website="https://www.auvergnerhonealpes.fr/",
        description=f"Région créée en 2016 par la fusion d'Auvergne et de Rhône-Alpes. {_INSEE}",
        source_url=_wikidata("Q18338206"),
    ),
    JurisdictionSpec(
        slug="rhone",
        name="Rhône",
        kind=Kind.COUNTY,
        ocd_id=RHONE,
        parent="auvergne-rhone-alpes",
        iso_code="FR-69",
        wikidata_qid="Q46130",
        geonames_id=2987410,
        # The circonscription départementale: the Métropole de Lyon plus the
        # département, as OCD draws it.
        population=1_893_692,
        latitude=45.87,
        longitude=4.63,
        time_zone="Europe/Paris",
        website="https://www.rhone.fr/",
        description=(
            "Département. Depuis 2015 la Métropole de Lyon est une collectivité distincte, "
            "mais Open Civic Data range ses circonscriptions sous le Rhône. "
            f"{_INSEE} (circonscription départementale)"
        ),
        source_url=_wikidata("Q46130"),
    ),
    JurisdictionSpec(
        slug="lyon",
        name="Lyon",
        kind=Kind.PLACE,
        ocd_id=minted_commune_id(parent_ocd_id=RHONE, name="Lyon"),
        parent="rhone",
        # Communes have no ISO 3166-2 code; FR-69M is the Métropole, not the city.
        wikidata_qid="Q456",
        geonames_id=2996944,
        population=522_250,
        latitude=45.757814,
        longitude=4.832011,
        time_zone="Europe/Paris",
        website="https://www.lyon.fr/",
        description=(
            "Troisième commune de France, au cœur de la Métropole de Lyon. L'identifiant "
            f"OCD est attribué par l'Atlas. {_INSEE}"
        ),
        source_url=_wikidata("Q456"),
        ocd_id_minted=True,
    ),
)


# ------------------------------------------------------------------------------
# Organizations
# ------------------------------------------------------------------------------

ORGANIZATIONS: tuple[OrganizationSpec, ...] = (
    # Chicago and Illinois
    OrganizationSpec(
        slug="university-of-chicago",
        name="University of Chicago",
        kind=OrgKind.UNIVERSITY,
        jurisdiction="chicago",
        website="https://www.uchicago.edu/",
        description=(
            "Research university in Hyde Park; with Argonne National Laboratory it runs "
            "the Urban Center for Computation and Data that led the Array of Things."
        ),
        source_url="http://www.mcs.anl.gov/project/array-things",
    ),
    OrganizationSpec(
        slug="chicagoland-chamber-of-commerce",
        name="Chicagoland Chamber of Commerce",
        kind=OrgKind.CHAMBER_OF_COMMERCE,
        jurisdiction="chicago",
        website="https://www.chicagolandchamber.org/",
        description="The region's business association.",
        source_url="https://www.chicagolandchamber.org/",
    ),
    OrganizationSpec(
        slug="macarthur-foundation",
        name="John D. and Catherine T. MacArthur Foundation",
        kind=OrgKind.FOUNDATION,
        jurisdiction="chicago",
        website="https://www.macfound.org/",
        description="Private foundation headquartered in Chicago.",
        source_url="https://www.macfound.org/",
    ),
    OrganizationSpec(
        slug="world-business-chicago",
        name="World Business Chicago",
        kind=OrgKind.ECONOMIC_DEVELOPMENT_AGENCY,
        jurisdiction="chicago",
        website="https://worldbusinesschicago.com/",
        description="Public-private economic development agency of the City of Chicago.",
        source_url=(
            "http://techplan.cityofchicago.org/initiatives-by-strategy/"
            "smart-communities/initiative-4/"
        ),
    ),
    OrganizationSpec(
        slug="1871",
        name="1871",
        kind=OrgKind.INCUBATOR,
        jurisdiction="chicago",
        website="https://1871.com/",
        description=(
            "Hub for early-stage digital start-ups, named after the year of the Great "
            "Chicago Fire and run by the non-profit Chicagoland Entrepreneurial Center."
        ),
        source_url=(
            "https://www.chicagotribune.com/business/ct-xpm-2012-01-18-chi-chicago-tech-"
            "leaders-to-open-space-for-entrepreneurs-at-merchandise-mart-20120118-story.html"
        ),
    ),
    OrganizationSpec(
        slug="hyde-park-angels",
        name="Hyde Park Angels",
        kind=OrgKind.INVESTOR,
        jurisdiction="chicago",
        description=(
            "Angel investor group founded in 2007 with ties to the University of Chicago's "
            "Polsky Center."
        ),
        source_url=(
            "https://www.chicagobusiness.com/private-intelligence/"
            "hey-angels-are-you-investing-ideas-people-or-something-else"
        ),
    ),
    OrganizationSpec(
        slug="lisc-chicago",
        name="LISC Chicago",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="chicago",
        website="https://www.lisc.org/chicago/",
        description="Community development organization; ran the Smart Communities program.",
        source_url="http://archive.lisc-chicago.org/Our-programs/Tech/index.html",
    ),
    OrganizationSpec(
        slug="smart-chicago-collaborative",
        name="Smart Chicago Collaborative",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="chicago",
        website="http://www.smartchicagocollaborative.org/",
        description="Civic organization that administered Chicago's BTOP broadband grants.",
        source_url=(
            "http://www.smartchicagocollaborative.org/work/"
            "broadband-technology-opportunities-program/smart-communities/"
        ),
    ),
    OrganizationSpec(
        slug="chicago-doit",
        name="City of Chicago Department of Innovation and Technology",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="chicago",
        website="https://www.chicago.gov/",
        description="The City department that runs the data portal and the open data program.",
        source_url="https://www.chicago.gov/city/en/narr/foia/open_data_executiveorder.html",
    ),
    OrganizationSpec(
        slug="chicago-public-schools",
        name="Chicago Public Schools",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="chicago",
        website="https://www.cps.edu/",
        description="Chicago's public school district.",
        source_url="https://sites.google.com/cps.edu/cs4all/for-parents/graduation-requirement",
    ),
    OrganizationSpec(
        slug="code-org",
        name="Code.org",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="united-states",
        website="https://code.org/",
        description="Non-profit that provides computer science curricula and teacher training.",
        source_url=(
            "https://www.chicagotribune.com/news/ct-xpm-2013-12-09-chi-cps-to-add-computer-"
            "science-as-core-subject-20131209-story.html"
        ),
    ),
    OrganizationSpec(
        slug="wbez",
        name="WBEZ Chicago",
        kind=OrgKind.MEDIA,
        jurisdiction="chicago",
        website="https://www.wbez.org/",
        description="Chicago's public radio station and newsroom.",
        source_url="https://www.wbez.org/",
    ),
    OrganizationSpec(
        slug="national-science-foundation",
        name="U.S. National Science Foundation",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="united-states",
        website="https://www.nsf.gov/",
        description="Federal agency that funds research; the main funder of the Array of Things.",
        source_url="http://www.mcs.anl.gov/project/array-things",
    ),
    OrganizationSpec(
        slug="illinois-office-of-broadband",
        name="Illinois Office of Broadband",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="illinois",
        description=(
            "Office within the Department of Commerce and Economic Opportunity that runs "
            "Connect Illinois."
        ),
        source_url="https://www.benton.org/blog/american-rescue-plan-act-will-help-connect-illinois",
    ),
    # New York City
    OrganizationSpec(
        slug="nycedc",
        name="New York City Economic Development Corporation",
        kind=OrgKind.ECONOMIC_DEVELOPMENT_AGENCY,
        jurisdiction="new-york-city",
        website="https://edc.nyc/",
        description="The City's economic development corporation (NYCEDC).",
        source_url="https://www.nycedc.com/project/applied-sciences-nyc",
    ),
    OrganizationSpec(
        slug="columbia-university",
        name="Columbia University",
        kind=OrgKind.UNIVERSITY,
        jurisdiction="new-york-city",
        website="https://www.columbia.edu/",
        description="Research university in Manhattan; a Tech Talent Pipeline college partner.",
        source_url=(
            "https://www.nydailynews.com/new-york/nyc-expand-program-links-students-tech-"
            "jobs-article-1.2978863"
        ),
    ),
    OrganizationSpec(
        slug="cornell-tech",
        name="Cornell Tech",
        kind=OrgKind.UNIVERSITY,
        jurisdiction="new-york-city",
        website="https://tech.cornell.edu/",
        description=(
            "Cornell University's graduate campus on Roosevelt Island, built with the "
            "Technion-Israel Institute of Technology after Applied Sciences NYC."
        ),
        source_url="https://news.weill.cornell.edu/node/1994",
    ),
    OrganizationSpec(
        slug="nyc-digital",
        name="NYC Digital (Mayor's Office of Media and Entertainment)",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="new-york-city",
        description="The office of the City's Chief Digital Officer, author of the Road Map.",
        source_url="http://www.nyc.gov/html/digital/html/roadmap/nextsteps.shtml",
    ),
    OrganizationSpec(
        slug="nyc-doitt",
        name="NYC Department of Information Technology and Telecommunications",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="new-york-city",
        description="The City's IT agency (DoITT); ran 311 Online and the BTOP programs.",
        source_url=(
            "https://www2.ntia.doc.gov/grantee/"
            "new-york-city-department-of-information-technology-and-telecommunications"
        ),
    ),
    OrganizationSpec(
        slug="nyc-sbs",
        name="NYC Department of Small Business Services",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="new-york-city",
        description="City agency that runs the NYC Tech Talent Pipeline.",
        source_url="https://www.nyc.gov/site/sbs/about/pr20180905_TTPTop25Innovations.page",
    ),
    OrganizationSpec(
        slug="computers-for-youth",
        name="Computers for Youth",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="new-york-city",
        description="Non-profit that trained families and supplied computers to them.",
        source_url=(
            "https://www2.ntia.doc.gov/grantee/"
            "new-york-city-department-of-information-technology-and-telecommunications"
        ),
    ),
    OrganizationSpec(
        slug="ny-tech-meetup",
        name="New York Tech Meetup",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="new-york-city",
        description="Membership organization of New York's technology community.",
        source_url=(
            "https://pando.com/2013/02/19/bloombergs-parting-gift-to-nyc-tech-an-online-hub-"
            "to-make-doing-tech-in-ny-easier/"
        ),
    ),
    # Boston
    OrganizationSpec(
        slug="new-urban-mechanics",
        name="Mayor's Office of New Urban Mechanics",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="boston",
        website="https://www.boston.gov/departments/new-urban-mechanics",
        description="Boston's civic innovation group, set up in 2010.",
        source_url=(
            "http://www.politico.com/magazine/story/2014/06/"
            "boston-theres-an-app-for-that-107661_full.html"
        ),
    ),
    OrganizationSpec(
        slug="boston-doit",
        name="City of Boston Department of Innovation and Technology",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="boston",
        description="The City's technology department; runs Boston 311 and Analyze Boston.",
        source_url=(
            "https://www.centreforpublicimpact.org/case-study/updating-311-us-municipal-services/"
        ),
    ),
    OrganizationSpec(
        slug="connected-bits",
        name="Connected Bits",
        kind=OrgKind.STARTUP,
        jurisdiction="boston",
        description="Local technology company that built the Citizens Connect app with the City.",
        source_url=(
            "http://www.newurbanmechanics.org/projects/participatory-urbanism-projects/"
            "project-information-citizens-connect/"
        ),
    ),
    OrganizationSpec(
        slug="knight-foundation",
        name="John S. and James L. Knight Foundation",
        kind=OrgKind.FOUNDATION,
        jurisdiction="united-states",
        website="https://knightfoundation.org/",
        description="National foundation for informed and engaged communities.",
        source_url=(
            "https://www.govtech.com/civic/analyze-boston-to-expand-data-sets-enhance-data-"
            "literacy.html"
        ),
    ),
    # Austin
    OrganizationSpec(
        slug="austin-tara",
        name="City of Austin Telecommunications and Regulatory Affairs Office",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="austin",
        description="City office that coordinates the Digital Inclusion Strategic Plan.",
        source_url="https://informed.vote/answer/morrison-oa-inclusion/",
    ),
    OrganizationSpec(
        slug="austin-ctm",
        name="City of Austin Communications and Technology Management",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="austin",
        description="The City's technology department, led by its chief information officer.",
        source_url=(
            "https://public-sector.cioreview.com/cioviewpoint/"
            "austin-is-open-by-default-now-what-nid-24718-cid-37.html"
        ),
    ),
    OrganizationSpec(
        slug="austin-free-net",
        name="Austin Free-Net",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="austin",
        website="https://www.austinfree.net/",
        description="Non-profit providing technology access and training in Austin since 1995.",
        source_url="https://www.austinchronicle.com/news/2015-01-23/connecting-a-whole-community/",
    ),
    OrganizationSpec(
        slug="haca",
        name="Housing Authority of the City of Austin",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="austin",
        description="Public housing authority (HACA); launched Unlocking the Connection.",
        source_url="https://fiber.googleblog.com/2014/11/unlocking-connection-for-austin.html",
    ),
    OrganizationSpec(
        slug="google-fiber",
        name="Google Fiber",
        kind=OrgKind.COMPANY,
        jurisdiction="united-states",
        website="https://fiber.google.com/",
        description="Fiber-to-the-home Internet provider; announced its Austin network in 2013.",
        source_url="https://fiber.googleblog.com/2014/11/unlocking-connection-for-austin.html",
    ),
    OrganizationSpec(
        slug="ut-austin",
        name="The University of Texas at Austin",
        kind=OrgKind.UNIVERSITY,
        jurisdiction="austin",
        website="https://www.utexas.edu/",
        description="Public research university; partner of the Austin Digital Assessment.",
        source_url="https://informed.vote/answer/morrison-oa-inclusion/",
    ),
    # Paris
    OrganizationSpec(
        slug="ville-de-paris",
        name="Ville de Paris",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="paris",
        website="https://www.paris.fr/",
        description="La municipalité parisienne.",
        source_url="https://parisdata.opendatasoft.com/page/lademarche",
    ),
    OrganizationSpec(
        slug="sciences-po",
        name="Sciences Po",
        kind=OrgKind.UNIVERSITY,
        jurisdiction="paris",
        website="https://www.sciencespo.fr/",
        description="Université de recherche en sciences humaines et sociales.",
        source_url="https://www.sciencespo.fr/",
    ),
    OrganizationSpec(
        slug="cci-paris-ile-de-france",
        name="CCI Paris Île-de-France",
        kind=OrgKind.CHAMBER_OF_COMMERCE,
        jurisdiction="ile-de-france",
        website="https://www.cci-paris-idf.fr/",
        description="Chambre de commerce et d'industrie de région Paris Île-de-France.",
        source_url="https://www.apur.org/fr/nos-travaux/paris-capitale-mondiale-ville-intelligente-2020",
    ),
    OrganizationSpec(
        slug="paris-and-co",
        name="Paris&Co",
        kind=OrgKind.ECONOMIC_DEVELOPMENT_AGENCY,
        jurisdiction="paris",
        description=(
            "Agence de développement économique et d'innovation de Paris, née en 2015 de la "
            "fusion de Paris Développement et de Paris Région Lab."
        ),
        source_url=(
            "http://www.latribune.fr/technos-medias/innovation-et-start-up/"
            "paris-co-le-bras-arme-de-l-innovation-de-la-ville-de-paris-613820.html"
        ),
    ),
    OrganizationSpec(
        slug="bpifrance",
        name="Bpifrance",
        kind=OrgKind.INVESTOR,
        jurisdiction="france",
        website="https://www.bpifrance.fr/",
        description="Banque publique d'investissement.",
        source_url="https://www.bpifrance.fr/",
    ),
    OrganizationSpec(
        slug="station-f",
        name="Station F",
        kind=OrgKind.INCUBATOR,
        jurisdiction="paris",
        website="https://stationf.co/",
        description="Campus de start-up de la halle Freyssinet, inauguré en juin 2017.",
        source_url="https://alliancy.fr/innovation-parisco-affine-sa-strategie-et-lance-lurban-lab/amp",
    ),
    # Lyon
    OrganizationSpec(
        slug="metropole-de-lyon",
        name="Métropole de Lyon",
        kind=OrgKind.GOVERNMENT_OFFICE,
        jurisdiction="lyon",
        website="https://www.grandlyon.com/",
        description="Le Grand Lyon, collectivité porteuse de la métropole intelligente.",
        source_url="https://data.grandlyon.com/comprendre-la-demarche/",
    ),
    OrganizationSpec(
        slug="tuba",
        name="TUBÀ (Tube à expérimentations urbaines)",
        kind=OrgKind.NON_PROFIT,
        jurisdiction="lyon",
        website="http://www.tuba-lyon.com/",
        description="Association loi 1901 et lieu d'expérimentation urbaine à la Part-Dieu.",
        source_url="http://www.tuba-lyon.com/le-tuba-itineraire-dun-lieu-en-mouvement/",
    ),
    OrganizationSpec(
        slug="aderly",
        name="Aderly",
        kind=OrgKind.ECONOMIC_DEVELOPMENT_AGENCY,
        jurisdiction="lyon",
        website="https://www.aderly.fr/",
        description="Agence pour le développement économique de la région lyonnaise.",
        source_url=(
            "https://www.aderly.fr/2018/07/tuba-le-lieu-dinnovation-et-dexperimentation-"
            "lyonnais-demenage-et-entame-une-nouvelle-phase/"
        ),
    ),
    OrganizationSpec(
        slug="veolia",
        name="Veolia",
        kind=OrgKind.COMPANY,
        jurisdiction="france",
        website="https://www.veolia.com/",
        description="Groupe de services à l'environnement ; membre fondateur du TUBÀ.",
        source_url="http://www.tuba-lyon.com/le-tuba-itineraire-dun-lieu-en-mouvement/",
    ),
    OrganizationSpec(
        slug="ibm",
        name="IBM",
        kind=OrgKind.COMPANY,
        jurisdiction="united-states",
        website="https://www.ibm.com/",
        description="Technology company; built the traffic prediction for Optimod'Lyon.",
        source_url=(
            "https://batirama.com/article/6207-lyon-construit-sa-ville-intelligente-douce-"
            "et-heureuse.html"
        ),
    ),
)


# ------------------------------------------------------------------------------
# Plans
# ------------------------------------------------------------------------------

CHICAGO_PLAN = "chicago-technology-plan-2013"
NYC_PLAN = "nyc-road-map-for-the-digital-city-2011"
BOSTON_PLAN = "boston-smart-city-playbook"
AUSTIN_PLAN = "austin-digital-inclusion-strategic-plan"
PARIS_PLAN = "paris-intelligente-et-durable"
LYON_PLAN = "lyon-metropole-intelligente"

PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(
        slug=CHICAGO_PLAN,
        jurisdiction="chicago",
        title="City of Chicago Technology Plan",
        summary=(
            "Chicago's first technology plan, released in September 2013: 28 initiatives in "
            "five strategies — next-generation infrastructure, every community a smart "
            "community, efficient, effective and open government, civic innovation, and "
            "technology sector growth."
        ),
        url="https://techplan.cityofchicago.org/",
        source_url="https://techplan.cityofchicago.org/executive-summary/",
    ),
    PlanSpec(
        slug=NYC_PLAN,
        jurisdiction="new-york-city",
        title="Road Map for the Digital City: Achieving New York City's Digital Future",
        summary=(
            "Written in the first 90 days of Rachel Sterne's term as the City's first Chief "
            "Digital Officer and released by Mayor Bloomberg in May 2011, the Road Map sets "
            "out four areas: Access, Open Government, Engagement and Industry."
        ),
        published_on=date(2011, 5, 16),
        source_url=(
            "http://techpresident.com/news/21747/navigating-new-yorks-road-map-digital-city-one-year"
        ),
    ),
    PlanSpec(
        slug=BOSTON_PLAN,
        jurisdiction="boston",
        title="Boston Smart City Playbook",
        summary=(
            "A living draft from the Mayor's Office of New Urban Mechanics (2016) telling "
            "technology companies how Boston wants to pilot sensors and data: "
            "people-centered, problem-driven and responsible."
        ),
        url="https://monum.github.io/playbook/",
        source_url="https://www.boston.gov/departments/new-urban-mechanics/smart-city-playbook",
    ),
    PlanSpec(
        slug=AUSTIN_PLAN,
        jurisdiction="austin",
        title="Digital Inclusion Strategic Plan",
        summary=(
            "Adopted unanimously by the Austin City Council on 20 November 2014 "
            "(Resolution 20141120-074), with the aim that every resident can take full part "
            "in digital society."
        ),
        published_on=date(2014, 11, 20),
        source_url=(
            "https://bandc.crccheck.com/cttc/396488-recommendation-20221012-006-digital-"
            "inclusion-strategic-plan-update/"
        ),
    ),
    PlanSpec(
        slug=PARIS_PLAN,
        jurisdiction="paris",
        title="Paris intelligente et durable — Perspectives 2020 et au-delà",
        summary=(
            "Plan stratégique présenté par Anne Hidalgo au Conseil de Paris le 26 mai 2015 : "
            "une ville ouverte, connectée et ingénieuse, qui mise sur le numérique pour sa "
            "transition écologique."
        ),
        language=FR,
        published_on=date(2015, 5, 26),
        url="https://fr.readkong.com/page/paris-intelligente-et-durable-perspectives-2020-et-3130818",
        source_url="https://www.apur.org/fr/nos-travaux/paris-capitale-mondiale-ville-intelligente-2020",
    ),
    PlanSpec(
        slug=LYON_PLAN,
        jurisdiction="lyon",
        title="Lyon, métropole intelligente",
        summary=(
            "Fiche illustrative : la démarche « métropole intelligente » du Grand Lyon "
            "(données ouvertes, mobilité, énergie, expérimentation), regroupée ici en un plan "
            "pour la démonstration ; le titre et le périmètre ne sont pas ceux d'un document "
            "officiel."
        ),
        language=FR,
        source_url="https://data.grandlyon.com/comprendre-la-demarche/",
        is_illustrative=True,
    ),
)


# ------------------------------------------------------------------------------
# Initiatives
# ------------------------------------------------------------------------------

_ILLUSTRATIVE = "**Illustrative record**: invented for the demo; the source gives context."
_ILLUSTRATIF = "**Fiche illustrative** : inventée pour la démo ; la source donne le contexte."

_CHICAGO_TECH_PLAN = SourceSpec(
    "City of Chicago Technology Plan: executive summary",
    "https://techplan.cityofchicago.org/executive-summary/",
)
_NYC_311_GCN = SourceSpec(
    "GCN: NYC311 draws record number of digital requests (2017)",
    "https://gcn.com/articles/2017/01/23/nyc-311.aspx",
    Source.Kind.EVIDENCE,
)
_NYC_311_CITYLAND = SourceSpec(
    "CityLand: Mayor celebrates 20th anniversary of 311 (2023)",
    "https://citylandnyc.org/mayor-celebrates-20th-anniversary-of-311",
    Source.Kind.EVIDENCE,
)

INITIATIVES: tuple[InitiativeSpec, ...] = (
    # --------------------------------------------------------------- Chicago
    InitiativeSpec(
        slug="chicago-data-portal",
        jurisdiction="chicago",
        plan=CHICAGO_PLAN,
        title="Chicago Data Portal",
        summary=(
            "The City's open data portal publishes datasets from City departments — business "
            "licenses, 311 service requests, crime, food inspections and more — free to "
            "download and to query through an API."
        ),
        status=Status.ACTIVE,
        focus_areas=("open-government", "stakeholder-communication"),
        sectors=("government", "technology"),
        lead="chicago-doit",
        sources=(
            SourceSpec("Chicago Data Portal", "https://data.cityofchicago.org/"),
            SourceSpec(
                "City of Chicago: Open Data Annual Report 2013",
                "http://chicago.github.io/open-data-annual-report-2013/",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="chicago-open-data-executive-order",
        jurisdiction="chicago",
        plan=CHICAGO_PLAN,
        title="Open Data Executive Order (No. 2012-2)",
        summary=(
            "Mayor Rahm Emanuel's order of 10 December 2012 requires every City agency to "
            "make reasonable efforts to publish its appropriate datasets on the data portal, "
            "names the chief data officer to lead and sets up an Open Data Advisory Group "
            "that prepares an annual report."
        ),
        status=Status.COMPLETED,
        start_date=date(2012, 12, 10),
        end_date=date(2012, 12, 10),
        focus_areas=("open-government", "legal-policy"),
        sectors=("government",),
        lead="chicago-doit",
        sources=(
            SourceSpec(
                "City of Chicago: Open Data Executive Order (No. 2012-2)",
                "https://www.chicago.gov/city/en/narr/foia/open_data_executiveorder.html",
            ),
            SourceSpec(
                "WBEZ: Mayor Emanuel touts expansion of Chicago's open data effort (2012)",
                "http://www.wbez.org/news/mayor-emanuel-touts-expansion-chicago%E2%80%99s-"
                "open-data-effort-and-why-you-should-care-104344",
                Source.Kind.EVIDENCE,
            ),
            SourceSpec(
                "City of Chicago: Mayor releases first annual Open Data Report (2014)",
                "https://www.chicago.gov/city/en/depts/mayor/press_room/press_releases/2014/"
                "feb/mayor-rahm-emanuel-releases-first-annual-open-data-report.html",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(
            MilestoneSpec("Executive order signed", date(2012, 12, 10), date(2012, 12, 10)),
            MilestoneSpec(
                "First Open Data Annual Report released", date(2014, 2, 7), date(2014, 2, 7)
            ),
        ),
    ),
    InitiativeSpec(
        slug="array-of-things",
        jurisdiction="chicago",
        title="Array of Things",
        summary=(
            "An urban sensing network: modular sensor nodes on Chicago's light poles measure "
            "temperature, air quality, light, sound and traffic, and the data is published "
            "openly. Led by the University of Chicago and Argonne National Laboratory with "
            "the City; the first nodes went up in 2016 and the hundredth in 2018."
        ),
        description=(
            "The budget is the National Science Foundation grant of $3.1 million, the main "
            "source of funding; Argonne and the Chicago Innovation Exchange added pilot money."
        ),
        status=Status.COMPLETED,
        budget=("3100000", "USD"),
        focus_areas=("university-research", "open-government", "technology-access"),
        sectors=("higher-education", "government", "technology"),
        lead="university-of-chicago",
        partners=(
            ("national-science-foundation", Role.FUNDER),
            ("chicago-doit", Role.IMPLEMENTER),
        ),
        sources=(
            SourceSpec("Array of Things: FAQ", "https://arrayofthings.github.io/faq.html"),
            SourceSpec(
                "Argonne MCS: Array of Things", "http://www.mcs.anl.gov/project/array-things"
            ),
            SourceSpec(
                "Urban Center for Computation and Data: five years, 100 nodes",
                "http://www.urbanccd.org/notes-from-the-director-1/",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="chicago-smart-communities",
        jurisdiction="chicago",
        title="Smart Communities",
        summary=(
            "A broadband adoption pilot in five neighborhoods — Auburn Gresham, Chicago "
            "Lawn, Englewood, Humboldt Park and Pilsen — run by LISC Chicago with local lead "
            "agencies: technology training, FamilyNet centers, business resource networks, "
            "community portals and youth programs, funded through the City's federal BTOP "
            "Sustainable Broadband Adoption grant. The pilot closed at the end of 2012."
        ),
        description="The budget is LISC Chicago's subaward under the City's BTOP grant.",
        status=Status.COMPLETED,
        end_date=date(2012, 12, 31),
        budget=("6680568", "USD"),
        focus_areas=("technology-access", "education-talent", "citizen-engagement"),
        sectors=("non-profit", "government"),
        lead="lisc-chicago",
        partners=(
            ("smart-chicago-collaborative", Role.IMPLEMENTER),
            ("chicago-doit", Role.FUNDER),
        ),
        sources=(
            SourceSpec(
                "Smart Chicago Collaborative: Smart Communities",
                "http://www.smartchicagocollaborative.org/work/"
                "broadband-technology-opportunities-program/smart-communities/",
            ),
            SourceSpec(
                "LISC Chicago: Smart Communities",
                "http://archive.lisc-chicago.org/Our-programs/Tech/index.html",
            ),
            SourceSpec(
                "Smart Communities Chicago: Measuring an era",
                "http://www.smartcommunitieschicago.org/news/5061",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="chicago-1871",
        jurisdiction="chicago",
        title="1871 digital start-up hub",
        summary=(
            "A 50,000-square-foot shared workspace for early-stage digital start-ups on the "
            "12th floor of the Merchandise Mart, opened in May 2012 and run by the non-profit "
            "Chicagoland Entrepreneurial Center with support from the State of Illinois and "
            "corporate sponsors."
        ),
        status=Status.ACTIVE,
        start_date=date(2012, 5, 2),
        focus_areas=("digital-economy",),
        sectors=("technology",),
        lead="1871",
        sources=(
            SourceSpec(
                "Chicago Tribune: Chicago tech leaders to open space for entrepreneurs (2012)",
                "https://www.chicagotribune.com/business/ct-xpm-2012-01-18-chi-chicago-tech-"
                "leaders-to-open-space-for-entrepreneurs-at-merchandise-mart-20120118-story.html",
            ),
            SourceSpec(
                "Time Out Chicago: 1871, Chicago's new tech hub",
                "https://www.timeout.com/chicago/things-to-do/1871-chicagos-new-tech-hub",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="chicago-cs-graduation-requirement",
        jurisdiction="chicago",
        title="Computer science graduation requirement (CS4All)",
        summary=(
            "In February 2016 the Chicago Board of Education made a year of computer science a "
            "high-school graduation requirement, the first US district to do so, starting "
            "with the class of 2020. It builds on a 2013 plan with Code.org to make computer "
            "science a core subject."
        ),
        status=Status.ACTIVE,
        start_date=date(2016, 2, 24),
        focus_areas=("education-talent",),
        sectors=("government", "technology"),
        lead="chicago-public-schools",
        partners=(("code-org", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "CPS CS4All: graduation requirement",
                "https://sites.google.com/cps.edu/cs4all/for-parents/graduation-requirement",
            ),
            SourceSpec(
                "TechCrunch: Computer science is now a graduation requirement in Chicago (2016)",
                "https://techcrunch.com/2016/02/24/computer-science-is-now-a-high-school-"
                "graduation-requirement-in-chicagos-public-school-district/",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="chicago-digital-navigators",
        jurisdiction="chicago",
        plan=CHICAGO_PLAN,
        title="Neighborhood digital navigators",
        summary=(
            "Trained navigators at branch libraries help residents get online, choose an "
            "affordable plan and learn the basics."
        ),
        description=_ILLUSTRATIVE,
        status=Status.ACTIVE,
        publication_state=State.REVIEW,
        start_date=date(2025, 1, 15),
        budget=("750000", "USD"),
        focus_areas=("technology-access", "education-talent"),
        sectors=("non-profit", "government"),
        lead="chicago-doit",
        partners=(("university-of-chicago", Role.ADVISOR),),
        sources=(_CHICAGO_TECH_PLAN,),
        milestones=(
            MilestoneSpec("Recruit the first cohort of navigators", -60, -62),
            MilestoneSpec("Sign the data-sharing agreement with the library", -6),
            MilestoneSpec("Open navigator desks in five branches", 5),
            MilestoneSpec("Publish the first quarterly report", 12),
            MilestoneSpec("Evaluate the pilot", 90),
        ),
        indicators=(
            IndicatorSpec(
                name="Residents helped by a navigator",
                unit="residents",
                baseline="0",
                target="5000",
                measurements=(
                    MeasurementSpec(date(2025, 3, 31), "410"),
                    MeasurementSpec(date(2025, 6, 30), "1180"),
                    MeasurementSpec(date(2025, 9, 30), "2065"),
                ),
            ),
        ),
        is_illustrative=True,
    ),
    InitiativeSpec(
        slug="chicago-digital-leadership-fellowship",
        jurisdiction="chicago",
        title="Digital-era leadership fellowship",
        summary=(
            "A year-long fellowship placing mid-career professionals from the city's "
            "universities and companies in City departments."
        ),
        description=_ILLUSTRATIVE,
        status=Status.IDEA,
        publication_state=State.DRAFT,
        focus_areas=("human-capital", "university-research"),
        sectors=("higher-education", "government"),
        sources=(_CHICAGO_TECH_PLAN,),
        is_illustrative=True,
    ),
    # --------------------------------------------------------- New York City
    InitiativeSpec(
        slug="nyc-connected-learning",
        jurisdiction="new-york-city",
        plan=NYC_PLAN,
        title="NYC Connected Learning",
        summary=(
            "The largest of the City's federally funded (BTOP) broadband programs: "
            "computers, digital literacy training, discounted broadband and a school "
            "curriculum for low-income sixth-graders and their families, planned for 18,000 "
            "students in high-need middle schools."
        ),
        status=Status.COMPLETED,
        budget=("22000000", "USD"),
        focus_areas=("technology-access", "education-talent"),
        sectors=("government", "non-profit"),
        lead="nyc-doitt",
        partners=(("computers-for-youth", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "NTIA BTOP: New York City DoITT grantee page",
                "https://www2.ntia.doc.gov/grantee/"
                "new-york-city-department-of-information-technology-and-telecommunications",
            ),
            SourceSpec(
                "NYC Digital Roadmap (StratML): NYC Connected",
                "https://stratml.hyperbase.com/NYCDR/"
                "goal1-obj1-_2443de24-8815-11e2-97db-3d7afe1f21e9.html",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="nyc-connected-communities",
        jurisdiction="new-york-city",
        plan=NYC_PLAN,
        title="NYC Connected Communities",
        summary=(
            "Federally funded (BTOP) expansion of public computer centers in libraries, "
            "public housing, senior and community centers in high-poverty areas, with "
            "digital literacy training and employment services."
        ),
        status=Status.COMPLETED,
        budget=("14000000", "USD"),
        focus_areas=("technology-access", "education-talent"),
        sectors=("government", "non-profit"),
        lead="nyc-doitt",
        sources=(
            SourceSpec(
                "NYC Digital Roadmap (StratML): NYC Connected",
                "https://stratml.hyperbase.com/NYCDR/"
                "goal1-obj1-_2443de24-8815-11e2-97db-3d7afe1f21e9.html",
            ),
        ),
    ),
    InitiativeSpec(
        slug="nyc-open-data-law",
        jurisdiction="new-york-city",
        title="Open Data Law (Local Law 11 of 2012)",
        summary=(
            "Signed by Mayor Bloomberg on 7 March 2012, the law requires City agencies to "
            "publish their public data on a single web portal, machine-readable and free of "
            "registration; amendments from 2015 to 2017 extended the mandate indefinitely."
        ),
        status=Status.ACTIVE,
        start_date=date(2012, 3, 7),
        focus_areas=("open-government", "legal-policy"),
        sectors=("government",),
        lead="nyc-doitt",
        sources=(
            SourceSpec(
                "NYC Open Data: Laws and reports",
                "https://opendata.cityofnewyork.us/open-data-law/",
            ),
            SourceSpec(
                "Reinvent Albany: What the NYC Open Data Law requires (2016)",
                "https://reinventalbany.org/2016/03/what-the-nyc-open-data-law-requires",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(MilestoneSpec("Local Law 11 signed", date(2012, 3, 7), date(2012, 3, 7)),),
    ),
    InitiativeSpec(
        slug="nyc-311-online",
        jurisdiction="new-york-city",
        plan=NYC_PLAN,
        title="311 Online and social media",
        summary=(
            "NYC 311, a phone line since 2003, added 311 Online with a live service-request "
            "map (February 2011), a mobile app and social media; by 2016 almost half of its "
            "36 million contacts came in digitally."
        ),
        status=Status.ACTIVE,
        focus_areas=("citizen-engagement", "stakeholder-communication"),
        sectors=("government",),
        lead="nyc-doitt",
        sources=(
            SourceSpec(
                "NYC DoITT: 311 Service Request Map launched (2011)",
                "https://www1.nyc.gov/site/doitt/about/pr-110216.page",
            ),
            _NYC_311_GCN,
            _NYC_311_CITYLAND,
        ),
        indicators=(
            IndicatorSpec(
                name="Contacts to 311 per year",
                unit="contacts",
                # 2003 counts from the launch in March; 2022 is "just over 35 million".
                measurements=(
                    MeasurementSpec(date(2003, 12, 31), "4500000", _NYC_311_CITYLAND.url),
                    MeasurementSpec(date(2013, 12, 31), "21700000", _NYC_311_CITYLAND.url),
                    MeasurementSpec(date(2016, 12, 31), "35982514", _NYC_311_GCN.url),
                    MeasurementSpec(date(2022, 12, 31), "35000000", _NYC_311_CITYLAND.url),
                ),
            ),
            IndicatorSpec(
                name="Share of 311 contacts made digitally",
                unit="%",
                measurements=(
                    MeasurementSpec(date(2014, 12, 31), "26", _NYC_311_GCN.url),
                    MeasurementSpec(date(2015, 12, 31), "38", _NYC_311_GCN.url),
                    MeasurementSpec(date(2016, 12, 31), "46", _NYC_311_GCN.url),
                ),
            ),
        ),
    ),
    InitiativeSpec(
        slug="made-in-ny-digital-map",
        jurisdiction="new-york-city",
        plan=NYC_PLAN,
        title="Made in NY Digital Map",
        summary=(
            "An interactive map of New York City's tech start-ups, investors and incubators "
            "that shows which companies are hiring, unveiled by Mayor Bloomberg at Internet "
            "Week New York; the We Are Made in NY hub followed in 2013."
        ),
        status=Status.COMPLETED,
        focus_areas=("digital-economy", "stakeholder-communication"),
        sectors=("technology",),
        lead="nyc-digital",
        partners=(("nycedc", Role.IMPLEMENTER), ("ny-tech-meetup", Role.IMPLEMENTER)),
        sources=(
            SourceSpec(
                "NY Tech Blog: Mayor Bloomberg unveils interactive map with NYC startups",
                "http://nytechblog.com/mayor-bloomberg-unveils-interactive-map-with-nyc-startups/",
            ),
            SourceSpec(
                "NYC Digital Roadmap 2012: Industry",
                "http://www.nyc.gov/html/digital/html/roadmap/industry.shtml",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="applied-sciences-nyc",
        jurisdiction="new-york-city",
        plan=NYC_PLAN,
        title="Applied Sciences NYC (Cornell Tech)",
        summary=(
            "A City competition, launched in December 2010, for a new applied sciences and "
            "engineering campus. In December 2011 Cornell University and the "
            "Technion-Israel Institute of Technology won with a plan for Roosevelt Island; "
            "the City provided the land and up to $100 million in infrastructure."
        ),
        status=Status.COMPLETED,
        budget=("100000000", "USD"),
        focus_areas=("university-research", "education-talent", "digital-economy"),
        sectors=("higher-education", "technology"),
        lead="nycedc",
        partners=(("cornell-tech", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "NYCEDC: Applied Sciences NYC",
                "https://www.nycedc.com/project/applied-sciences-nyc",
            ),
            SourceSpec(
                "Weill Cornell: Cornell and Technion win Applied Sciences NYC",
                "https://news.weill.cornell.edu/node/1994",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(
            MilestoneSpec(
                "Cornell-Technion proposal selected", date(2011, 12, 19), date(2011, 12, 19)
            ),
        ),
    ),
    InitiativeSpec(
        slug="nyc-tech-talent-pipeline",
        jurisdiction="new-york-city",
        title="NYC Tech Talent Pipeline",
        summary=(
            "An industry partnership announced by Mayor de Blasio in May 2014, about $10 "
            "million over three years of public and private money, to train New Yorkers for "
            "tech jobs, design curricula with employers and connect colleges such as CUNY, "
            "Columbia University and Cornell Tech with hiring companies."
        ),
        status=Status.ACTIVE,
        budget=("10000000", "USD"),
        focus_areas=("education-talent", "human-capital", "digital-economy"),
        sectors=("technology", "higher-education"),
        lead="nyc-sbs",
        partners=(
            ("columbia-university", Role.IMPLEMENTER),
            ("cornell-tech", Role.IMPLEMENTER),
        ),
        sources=(
            SourceSpec(
                "NYC Mayor's Office: first Tech Talent Summit held (2014)",
                "https://www.nyc.gov/office-of-the-mayor/news/367-14/in-support-mayor-de-"
                "blasio-s-launch-the-tech-talent-pipeline-first-tech-talent-summit-held",
            ),
            SourceSpec(
                "NYPL: Creating a tech talent pipeline in New York City (2014)",
                "https://www.nypl.org/blog/2014/07/11/tech-talent-nyc",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="nyc-small-business-digital-pilot",
        jurisdiction="new-york-city",
        title="Small-business digital adoption pilot",
        summary=(
            "Coaching and starter kits to help neighborhood shops sell online and take "
            "digital payments; paused while its funding is reviewed."
        ),
        description=_ILLUSTRATIVE,
        status=Status.PAUSED,
        start_date=date(2024, 4, 1),
        budget=("400000", "USD"),
        focus_areas=("industry-transformation", "digital-economy"),
        sectors=("retail", "consumer-products"),
        lead="nyc-sbs",
        partners=(("nycedc", Role.ADVISOR),),
        sources=(
            SourceSpec(
                "NYC SBS: Tech Talent Pipeline named a top-25 innovation (context)",
                "https://www.nyc.gov/site/sbs/about/pr20180905_TTPTop25Innovations.page",
            ),
        ),
        milestones=(
            MilestoneSpec("Recruit the first 100 shops", -200, -205),
            MilestoneSpec("Survey participating merchants", -15),
            MilestoneSpec("Decide whether to resume the pilot", 9),
        ),
        indicators=(
            IndicatorSpec(
                name="Shops selling online",
                unit="shops",
                baseline="0",
                target="400",
                measurements=(
                    MeasurementSpec(date(2024, 6, 30), "35"),
                    MeasurementSpec(date(2024, 9, 30), "80"),
                    MeasurementSpec(date(2024, 12, 31), "95"),
                ),
            ),
        ),
        is_illustrative=True,
    ),
    # ---------------------------------------------------------------- Boston
    InitiativeSpec(
        slug="boston-new-urban-mechanics",
        jurisdiction="boston",
        title="Mayor's Office of New Urban Mechanics",
        summary=(
            "Boston's civic innovation R&D group, formed in 2010 under Mayor Thomas Menino "
            "and led by Nigel Jacob and Chris Osgood; it pilots new services with residents, "
            "entrepreneurs and researchers."
        ),
        status=Status.ACTIVE,
        focus_areas=("citizen-engagement", "open-government"),
        sectors=("government",),
        lead="new-urban-mechanics",
        sources=(
            SourceSpec(
                "Politico Magazine: Boston, there's an app for that (2014)",
                "http://www.politico.com/magazine/story/2014/06/"
                "boston-theres-an-app-for-that-107661_full.html",
            ),
            SourceSpec(
                "GCN: New Urban Mechanics, apps in the pipeline (2011)",
                "https://gcn.com/articles/2011/10/17/boston-apps-in-the-pipeline-side.aspx",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="boston-citizens-connect",
        jurisdiction="boston",
        title="Citizens Connect",
        summary=(
            "A smartphone app, launched in October 2009 with the local company Connected Bits, "
            "that lets residents photograph potholes, graffiti and other problems and send "
            "them straight into the City's work-order system; renamed BOS:311 in August 2015."
        ),
        status=Status.COMPLETED,
        end_date=date(2015, 8, 11),
        focus_areas=("citizen-engagement", "stakeholder-communication"),
        sectors=("government",),
        lead="new-urban-mechanics",
        partners=(("connected-bits", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "New Urban Mechanics: Citizens Connect",
                "http://www.newurbanmechanics.org/projects/participatory-urbanism-projects/"
                "project-information-citizens-connect/",
            ),
            SourceSpec(
                "City of Boston: Citizens Connect",
                "https://www.cityofboston.gov/whatsnew/citizens_connect.asp",
            ),
        ),
    ),
    InitiativeSpec(
        slug="boston-bos-311",
        jurisdiction="boston",
        title="BOS:311",
        summary=(
            "Launched by Mayor Martin J. Walsh on 11 August 2015, Boston 311 brings calls, "
            "the app, texts and social media together for non-emergency requests; the "
            "BOS:311 app is a revamped Citizens Connect."
        ),
        status=Status.ACTIVE,
        start_date=date(2015, 8, 11),
        focus_areas=("citizen-engagement", "stakeholder-communication"),
        sectors=("government",),
        lead="boston-doit",
        partners=(("new-urban-mechanics", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "Boston.com: Mayor Walsh unveils new 311 system (2015)",
                "https://www.boston.com/news/local-news/2015/08/11/watch-mayor-walsh-unveils-"
                "new-311-system",
            ),
            SourceSpec(
                "Centre for Public Impact: Accessing Boston's non-emergency services via BOS:311",
                "https://www.centreforpublicimpact.org/case-study/"
                "updating-311-us-municipal-services/",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(MilestoneSpec("Boston 311 launched", date(2015, 8, 11), date(2015, 8, 11)),),
    ),
    InitiativeSpec(
        slug="analyze-boston",
        jurisdiction="boston",
        title="Analyze Boston",
        summary=(
            "The City's second open data portal, launched in beta on 1 March 2017 with 117 "
            "curated datasets on CKAN; largely funded by a two-year $475,000 grant from the "
            "Knight Foundation."
        ),
        status=Status.ACTIVE,
        start_date=date(2017, 3, 1),
        budget=("475000", "USD"),
        focus_areas=("open-government",),
        sectors=("government",),
        lead="boston-doit",
        partners=(("knight-foundation", Role.FUNDER),),
        sources=(
            SourceSpec(
                "Route Fifty: Boston puts open-data quality first (2017)",
                "https://route-fifty.com/digital-government/2017/03/"
                "boston-puts-open-data-quality-first/304577",
            ),
            SourceSpec(
                "GovTech: Analyze Boston to expand data sets, enhance data literacy",
                "https://www.govtech.com/civic/analyze-boston-to-expand-data-sets-enhance-data-"
                "literacy.html",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="boston-digital-equity-survey",
        jurisdiction="boston",
        plan=BOSTON_PLAN,
        title="Neighborhood digital equity survey",
        summary=(
            "A door-to-door and online survey of Internet access and skills in three "
            "neighborhoods, to decide where the next pilots go."
        ),
        description=_ILLUSTRATIVE,
        status=Status.PLANNED,
        publication_state=State.DRAFT,
        focus_areas=("technology-access", "citizen-engagement"),
        sectors=("government",),
        lead="new-urban-mechanics",
        sources=(
            SourceSpec(
                "City of Boston: Smart City Playbook (context)",
                "https://www.boston.gov/departments/new-urban-mechanics/smart-city-playbook",
            ),
        ),
        milestones=(
            MilestoneSpec("Draft the questionnaire", -30, -28),
            MilestoneSpec("Field the survey in three neighborhoods", 10),
        ),
        is_illustrative=True,
    ),
    # ---------------------------------------------------------------- Austin
    InitiativeSpec(
        slug="austin-gtops",
        jurisdiction="austin",
        plan=AUSTIN_PLAN,
        title="Grant for Technology Opportunities Program (GTOPs)",
        summary=(
            "City matching grants, founded in 2001, for Austin organizations that offer "
            "digital literacy training, devices and connectivity; a community panel "
            "appointed by the Community Technology and Telecommunications Commission reviews "
            "the applications."
        ),
        status=Status.ACTIVE,
        focus_areas=("technology-access", "education-talent"),
        sectors=("non-profit", "government"),
        lead="austin-tara",
        sources=(
            SourceSpec(
                "Austin Business Journal: Austin tech grants available (2012)",
                "https://www.bizjournals.com/austin/print-edition/2012/09/28/"
                "matching-grant-program-seeks.html",
            ),
            SourceSpec(
                "City of Austin memo: GTOPs 2026 action plan",
                "https://bandc.crccheck.com/cttc/460402-item-3-gtops-improvement-plan",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="austin-unlocking-the-connection",
        jurisdiction="austin",
        title="Unlocking the Connection",
        summary=(
            "Launched on 20 November 2014 by the Housing Authority of the City of Austin with "
            "more than 20 partners, including Google Fiber: free basic fiber Internet for "
            "public-housing residents, devices, and digital literacy and STEM training."
        ),
        status=Status.ACTIVE,
        start_date=date(2014, 11, 20),
        focus_areas=("technology-access", "education-talent"),
        sectors=("non-profit", "technology"),
        lead="haca",
        partners=(("google-fiber", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "Google Fiber blog: Unlocking the Connection for Austin's public housing residents",
                "https://fiber.googleblog.com/2014/11/unlocking-connection-for-austin.html",
            ),
            SourceSpec(
                "KUT: Google announces fiber plan for low-income homes (2014)",
                "https://www.kut.org/austin/2014-11-21/google-announces-fiber-plan-for-low-"
                "income-homes",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(MilestoneSpec("Program launched", date(2014, 11, 20), date(2014, 11, 20)),),
    ),
    InitiativeSpec(
        slug="austin-open-data",
        jurisdiction="austin",
        title="City of Austin open data portal",
        summary=(
            "Council Resolution 20111208-074 of 8 December 2011 committed the City to open "
            "government and open data; the data portal followed, and in 2013 the City "
            "Manager told every department to identify data to publish, 'open by default'."
        ),
        status=Status.ACTIVE,
        start_date=date(2011, 12, 8),
        focus_areas=("open-government", "legal-policy"),
        sectors=("government",),
        lead="austin-ctm",
        sources=(
            SourceSpec(
                "Sunlight Foundation: Austin, TX council resolution (2011)",
                "https://opendatapolicyhub.sunlightfoundation.com/collection/austin-tx-2011-12-08/",
            ),
            SourceSpec("City of Austin open data portal", "https://data.austintexas.gov/"),
            SourceSpec(
                "CIOReview: Austin is open by default... now what?",
                "https://public-sector.cioreview.com/cioviewpoint/"
                "austin-is-open-by-default-now-what-nid-24718-cid-37.html",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="austin-smart-parking-pilot",
        jurisdiction="austin",
        title="Smart-parking sensor pilot",
        summary=(
            "Curbside sensors to show free parking spaces downtown; cancelled after the "
            "vendor demonstration."
        ),
        description=_ILLUSTRATIVE,
        status=Status.CANCELLED,
        focus_areas=("industry-transformation", "open-government"),
        sectors=("government", "technology"),
        lead="austin-ctm",
        sources=(
            SourceSpec(
                "CIOReview: Austin is open by default... now what? (context)",
                "https://public-sector.cioreview.com/cioviewpoint/"
                "austin-is-open-by-default-now-what-nid-24718-cid-37.html",
            ),
        ),
        milestones=(MilestoneSpec("Vendor demonstration", -120, -118),),
        is_illustrative=True,
    ),
    # ----------------------------------------------------------------- Paris
    InitiativeSpec(
        slug="paris-data",
        jurisdiction="paris",
        language=FR,
        title="Paris Data, le portail des données ouvertes",
        summary=(
            "Ouvert en janvier 2011 après les délibérations du Conseil de Paris de juin et "
            "décembre 2010, opendata.paris.fr publie les données de la Ville sous licence "
            "ODbL, des équipements municipaux aux arbres d'alignement."
        ),
        status=Status.ACTIVE,
        focus_areas=("open-government",),
        sectors=("government",),
        lead="ville-de-paris",
        sources=(
            SourceSpec(
                "Paris Data : la démarche", "https://parisdata.opendatasoft.com/page/lademarche"
            ),
            SourceSpec(
                "Decideo : la Mairie de Paris ouvre ses données au public (2011)",
                "https://decideo.fr/La-Mairie-de-Paris-ouvre-ses-donnees-au-public_a4053.html",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(
            MilestoneSpec(
                "Délibération du Conseil de Paris sur l'ouverture des données",
                date(2010, 12, 14),
                date(2010, 12, 14),
            ),
        ),
    ),
    InitiativeSpec(
        slug="paris-budget-participatif",
        jurisdiction="paris",
        plan=PARIS_PLAN,
        language=FR,
        title="Budget participatif de Paris",
        summary=(
            "Depuis 2014, les Parisiens, sans condition d'âge ni de nationalité, votent pour "
            "des projets d'investissement puis en proposent ; 5 % du budget d'investissement, "
            "soit 426 millions d'euros sur la mandature 2014-2020. Premier vote du 24 "
            "septembre au 1er octobre 2014."
        ),
        status=Status.ACTIVE,
        start_date=date(2014, 9, 24),
        budget=("426000000", "EUR"),
        focus_areas=("citizen-engagement", "open-government"),
        sectors=("government",),
        lead="ville-de-paris",
        sources=(
            SourceSpec(
                "Banque des Territoires : la ville de Paris lance son premier budget participatif",
                "https://banquedesterritoires.fr/la-ville-de-paris-lance-son-premier-budget-"
                "participatif",
            ),
            SourceSpec(
                "Weka : Anne Hidalgo lance l'édition 2015 du budget participatif",
                "https://www.weka.fr/actualite/finances-locales/article/anne-hidalgo-lance-"
                "ledition-2015-du-budget-participatif-parisien-2964/",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(
            MilestoneSpec("Premier vote des Parisiens", date(2014, 10, 1), date(2014, 10, 1)),
        ),
    ),
    InitiativeSpec(
        slug="paris-idee-paris",
        jurisdiction="paris",
        plan=PARIS_PLAN,
        language=FR,
        title="« Madame la Maire, j'ai une idée » (idee.paris.fr)",
        summary=(
            "Plateforme en ligne ouverte le 14 janvier 2015 où les Parisiens déposent, "
            "commentent et enrichissent les idées soumises ensuite au budget participatif."
        ),
        status=Status.ACTIVE,
        start_date=date(2015, 1, 14),
        focus_areas=("citizen-engagement", "stakeholder-communication"),
        sectors=("government",),
        lead="ville-de-paris",
        sources=(
            SourceSpec(
                "Weka : Anne Hidalgo lance l'édition 2015 du budget participatif",
                "https://www.weka.fr/actualite/finances-locales/article/anne-hidalgo-lance-"
                "ledition-2015-du-budget-participatif-parisien-2964/",
            ),
        ),
    ),
    InitiativeSpec(
        slug="paris-urban-lab",
        jurisdiction="paris",
        plan=PARIS_PLAN,
        language=FR,
        title="Urban Lab de Paris&Co : quartiers d'innovation urbaine",
        summary=(
            "Programme d'expérimentation de Paris&Co : les lauréats testent leurs projets "
            "grandeur nature pendant six mois, d'abord dans le XIIIe arrondissement autour "
            "de Station F, avec la Ville, la RATP, Eau de Paris et d'autres partenaires."
        ),
        status=Status.ACTIVE,
        focus_areas=("industry-transformation", "digital-economy"),
        sectors=("technology", "government"),
        lead="paris-and-co",
        partners=(("ville-de-paris", Role.FUNDER),),
        sources=(
            SourceSpec(
                "Alliancy : Paris&Co tape fort en cette rentrée",
                "https://alliancy.fr/parisco-tape-fort-en-cette-rentree/amp",
            ),
            SourceSpec(
                "La Tribune : Paris&Co, le bras armé de l'innovation de la Ville de Paris",
                "http://www.latribune.fr/technos-medias/innovation-et-start-up/"
                "paris-co-le-bras-arme-de-l-innovation-de-la-ville-de-paris-613820.html",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="paris-ateliers-numeriques",
        jurisdiction="paris",
        plan=PARIS_PLAN,
        language=FR,
        title="Ateliers numériques de quartier",
        summary=(
            "Des ateliers gratuits dans les bibliothèques et les centres sociaux pour "
            "accompagner les habitants éloignés du numérique."
        ),
        description=_ILLUSTRATIF,
        status=Status.ACTIVE,
        publication_state=State.REVIEW,
        start_date=date(2025, 1, 6),
        budget=("1200000", "EUR"),
        focus_areas=("technology-access", "education-talent"),
        sectors=("government", "non-profit"),
        lead="ville-de-paris",
        sources=(
            SourceSpec(
                "Paris intelligente et durable : permettre l'accès du plus grand nombre au "
                "numérique (contexte)",
                "https://fr.readkong.com/page/paris-intelligente-et-durable-perspectives-2020-"
                "et-3130818",
            ),
        ),
        milestones=(
            MilestoneSpec("Former les premiers médiateurs", -40, -41),
            MilestoneSpec("Bilan trimestriel", -4),
            MilestoneSpec("Ouvrir deux nouveaux ateliers", 3),
        ),
        indicators=(
            IndicatorSpec(
                name="Participants aux ateliers",
                unit="personnes",
                baseline="0",
                target="3000",
                measurements=(
                    MeasurementSpec(date(2025, 3, 31), "120"),
                    MeasurementSpec(date(2025, 6, 30), "340"),
                    MeasurementSpec(date(2025, 9, 30), "610"),
                ),
            ),
        ),
        is_illustrative=True,
    ),
    # ------------------------------------------------------------------ Lyon
    InitiativeSpec(
        slug="data-grandlyon",
        jurisdiction="lyon",
        plan=LYON_PLAN,
        language=FR,
        title="data.grandlyon.com, la plateforme de données de la Métropole",
        summary=(
            "Plateforme de données du Grand Lyon, en bêta dès septembre 2012 puis ouverte en "
            "2013 : données ouvertes sous licence ODbL, mais aussi jeux à accès authentifié "
            "ou payant, au service de la métropole intelligente."
        ),
        status=Status.ACTIVE,
        focus_areas=("open-government", "digital-economy"),
        sectors=("government", "technology"),
        lead="metropole-de-lyon",
        sources=(
            SourceSpec(
                "data.grandlyon.com : comprendre la démarche",
                "https://data.grandlyon.com/comprendre-la-demarche/",
            ),
            SourceSpec(
                "Banque des Territoires : Grand Lyon, un portail hybride dédié à l'open data",
                "https://www.banquedesterritoires.fr/grand-lyon-un-portail-hybride-dedie-"
                "lopen-data-et-au-partage-de-donnees-communales",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="tuba-lyon",
        jurisdiction="lyon",
        plan=LYON_PLAN,
        language=FR,
        title="TUBÀ (Tube à expérimentations urbaines)",
        summary=(
            "Lieu d'expérimentation ouvert le 27 novembre 2014 place Charles Béraudier, à la "
            "Part-Dieu, par une association née à l'initiative de la Métropole de Lyon et "
            "d'entreprises (Veolia, EDF, SFR) pour tester avec les habitants des services "
            "urbains fondés sur les données ; installé cours Lafayette depuis 2018."
        ),
        status=Status.ACTIVE,
        start_date=date(2014, 11, 27),
        focus_areas=("citizen-engagement", "industry-transformation", "digital-economy"),
        sectors=("technology", "non-profit"),
        lead="tuba",
        partners=(("metropole-de-lyon", Role.FUNDER), ("veolia", Role.FUNDER)),
        sources=(
            SourceSpec(
                "TUBÀ : itinéraire d'un lieu en mouvement",
                "http://www.tuba-lyon.com/le-tuba-itineraire-dun-lieu-en-mouvement/",
            ),
            SourceSpec(
                "Lyon Entreprises : inauguration du TUBA",
                "http://www.lyon-entreprises.com/News/L-article-du-jour/Inauguration-du-TUBA-"
                "420-m2-dedies-aux-start-up-au-coeur-de-la-Part-Dieu-i64422.html",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(
            MilestoneSpec(
                "Ouverture place Charles Béraudier", date(2014, 11, 27), date(2014, 11, 27)
            ),
        ),
    ),
    InitiativeSpec(
        slug="optimod-lyon",
        jurisdiction="lyon",
        plan=LYON_PLAN,
        language=FR,
        title="Optimod'Lyon",
        summary=(
            "Projet de mobilité lancé en 2011 : prévision du trafic à une heure à partir des "
            "données de l'agglomération, traitées par IBM, et GPS multimodal en temps réel "
            "sur smartphone pour les habitants."
        ),
        status=Status.COMPLETED,
        focus_areas=("industry-transformation", "open-government"),
        sectors=("technology", "government"),
        lead="metropole-de-lyon",
        partners=(("ibm", Role.IMPLEMENTER),),
        sources=(
            SourceSpec(
                "Batirama : Lyon construit sa ville intelligente, douce et heureuse",
                "https://batirama.com/article/6207-lyon-construit-sa-ville-intelligente-douce-"
                "et-heureuse.html",
            ),
            SourceSpec(
                "Ville, Rail & Transports : le Grand Lyon construit la ville intelligente",
                "https://ville-rail-transports.com/actualites-transports/18128-le-grand-lyon-"
                "construit-la-ville-intelligente-par-lexperimentation",
                Source.Kind.EVIDENCE,
            ),
        ),
    ),
    InitiativeSpec(
        slug="lyon-fabrique-donnees-quartier",
        jurisdiction="lyon",
        plan=LYON_PLAN,
        language=FR,
        title="Fabrique des données de quartier",
        summary=(
            "Des ateliers où habitants et mairies d'arrondissement choisissent les données "
            "locales à publier sur data.grandlyon.com."
        ),
        description=_ILLUSTRATIF,
        status=Status.IDEA,
        publication_state=State.DRAFT,
        focus_areas=("open-government", "citizen-engagement"),
        sectors=("government",),
        lead="metropole-de-lyon",
        sources=(
            SourceSpec(
                "data.grandlyon.com : comprendre la démarche (contexte)",
                "https://data.grandlyon.com/comprendre-la-demarche/",
            ),
        ),
        milestones=(MilestoneSpec("Atelier de cadrage avec les mairies d'arrondissement", -3),),
        is_illustrative=True,
    ),
    # -------------------------------------------------------------- Illinois
    InitiativeSpec(
        slug="connect-illinois",
        jurisdiction="illinois",
        title="Connect Illinois",
        summary=(
            "Statewide broadband expansion launched by Governor JB Pritzker on 15 August 2019 "
            "under the Rebuild Illinois capital plan: $400 million in matching grants and $20 "
            "million for the Illinois Century Network, a Broadband Advisory Council and an "
            "Office of Broadband; every home and business to have at least 100/20 Mbps "
            "available by 2028."
        ),
        status=Status.ACTIVE,
        start_date=date(2019, 8, 15),
        budget=("420000000", "USD"),
        focus_areas=("technology-access", "health-care", "education-talent"),
        sectors=("government", "health-care", "agriculture"),
        lead="illinois-office-of-broadband",
        sources=(
            SourceSpec(
                "GovTech: Illinois puts $420M toward broadband Internet expansion (2019)",
                "https://www.govtech.com/network/illinois-puts-420m-toward-broadband-internet-"
                "expansion.html",
            ),
            SourceSpec(
                "Benton Institute: American Rescue Plan Act will help Connect Illinois",
                "https://www.benton.org/blog/american-rescue-plan-act-will-help-connect-illinois",
                Source.Kind.EVIDENCE,
            ),
        ),
        milestones=(
            MilestoneSpec(
                "First $50 million grant round opened", date(2020, 2, 5), date(2020, 2, 5)
            ),
        ),
    ),
)


# ------------------------------------------------------------------------------
# Lineage, coalitions and accounts
# ------------------------------------------------------------------------------

LINKS: tuple[LinkSpec, ...] = (
    LinkSpec(
        source="boston-bos-311",
        target="boston-citizens-connect",
        kind=InitiativeLink.Kind.SUCCESSOR_OF,
        note="BOS:311 is the 2015 rebrand and revamp of the Citizens Connect app.",
    ),
    LinkSpec(
        source="chicago-open-data-executive-order",
        target="nyc-open-data-law",
        kind=InitiativeLink.Kind.INSPIRED_BY,
        note=(
            "WBEZ (December 2012) noted that much of the order's language and structure "
            "follows the open data laws of New York and San Francisco."
        ),
    ),
    LinkSpec(
        source="data-grandlyon",
        target="paris-data",
        kind=InitiativeLink.Kind.ADAPTED_FROM,
        note=(
            "Illustrative: both are early French municipal portals under ODbL; the Atlas has "
            "no source for a direct adaptation."
        ),
    ),
    LinkSpec(
        source="austin-open-data",
        target="chicago-data-portal",
        kind=InitiativeLink.Kind.INSPIRED_BY,
        note="Illustrative: shows a cross-city link; not documented.",
    ),
    LinkSpec(
        source="chicago-digital-navigators",
        target="austin-unlocking-the-connection",
        kind=InitiativeLink.Kind.INSPIRED_BY,
        note="Illustrative: the navigators pilot is itself an illustrative record.",
    ),
)

COALITIONS: tuple[CoalitionSpec, ...] = (
    CoalitionSpec(
        slug="chicago-council-for-digital-era-leadership",
        jurisdiction="chicago",
        name="Chicago Council for Digital Era Leadership",
        description=(
            f"{_ILLUSTRATIVE} A council of Chicago's universities, business groups, funders "
            "and start-up community that advises the City on leadership in the digital era, "
            "in the spirit of the Technology Plan's call for public, private and non-profit "
            "coordination."
        ),
        founded_on=date(2021, 3, 1),
        source_url="https://techplan.cityofchicago.org/executive-summary/",
        is_illustrative=True,
        members=(
            MemberSpec("world-business-chicago", Member.CONVENER, date(2021, 3, 1)),
            MemberSpec("university-of-chicago", Member.FOUNDING_MEMBER, date(2021, 3, 1)),
            MemberSpec("1871", Member.FOUNDING_MEMBER, date(2021, 3, 1)),
            MemberSpec("macarthur-foundation", Member.FUNDER, date(2021, 6, 1)),
            MemberSpec("chicagoland-chamber-of-commerce", Member.MEMBER, date(2022, 1, 15)),
            MemberSpec("wbez", Member.MEMBER, date(2022, 9, 1)),
            # The ended membership, so that lists can show past members.
            MemberSpec("hyde-park-angels", Member.ADVISOR, date(2021, 3, 1), date(2023, 12, 31)),
        ),
    ),
    CoalitionSpec(
        slug="new-york-council-for-digital-era-leadership",
        jurisdiction="new-york-city",
        name="New York City Council for Digital Era Leadership",
        description=(
            f"{_ILLUSTRATIVE} Brings the City's economic development agency, universities and "
            "tech community together around talent and the digital economy."
        ),
        founded_on=date(2022, 2, 1),
        source_url=(
            "https://www.nyc.gov/office-of-the-mayor/news/465-16/mayor-de-blasio-expanded-tech-"
            "talent-pipeline-train-1-700-new-yorkers-each-year-for"
        ),
        is_illustrative=True,
        members=(
            MemberSpec("nycedc", Member.CONVENER, date(2022, 2, 1)),
            MemberSpec("columbia-university", Member.FOUNDING_MEMBER, date(2022, 2, 1)),
            MemberSpec("cornell-tech", Member.FOUNDING_MEMBER, date(2022, 2, 1)),
            MemberSpec("ny-tech-meetup", Member.MEMBER, date(2022, 5, 1)),
            MemberSpec("nyc-sbs", Member.ADVISOR, date(2022, 2, 1)),
        ),
    ),
    CoalitionSpec(
        slug="conseil-parisien-leadership-numerique",
        jurisdiction="paris",
        name="Conseil parisien pour le leadership numérique",
        description=(
            f"{_ILLUSTRATIF} Réunit chambre de commerce, université, agence d'innovation, "
            "incubateur et investisseur public autour de la ville intelligente."
        ),
        founded_on=date(2022, 10, 3),
        source_url="https://www.apur.org/fr/nos-travaux/paris-capitale-mondiale-ville-intelligente-2020",
        is_illustrative=True,
        members=(
            MemberSpec("cci-paris-ile-de-france", Member.CONVENER, date(2022, 10, 3)),
            MemberSpec("sciences-po", Member.FOUNDING_MEMBER, date(2022, 10, 3)),
            MemberSpec("paris-and-co", Member.FOUNDING_MEMBER, date(2022, 10, 3)),
            MemberSpec("station-f", Member.MEMBER, date(2023, 1, 16)),
            MemberSpec("bpifrance", Member.FUNDER, date(2023, 1, 16)),
        ),
    ),
)

ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", "Atlas", "Admin", is_superuser=True),
    AccountSpec(
        "chicago-editor",
        "Chicago",
        "Editor",
        jurisdiction="chicago",
        role=Council.EDITOR,
        public_name="Demo editor (Chicago)",
    ),
    AccountSpec(
        "chicago-reviewer",
        "Chicago",
        "Reviewer",
        jurisdiction="chicago",
        role=Council.REVIEWER,
        public_name="Demo reviewer (Chicago)",
    ),
    AccountSpec(
        "chicago-chair",
        "Chicago",
        "Chair",
        jurisdiction="chicago",
        role=Council.CHAIR,
        public_name="Demo chair (Chicago)",
    ),
    AccountSpec(
        "illinois-editor",
        "Illinois",
        "Editor",
        jurisdiction="illinois",
        role=Council.EDITOR,
        public_name="Demo editor (Illinois)",
    ),
    AccountSpec(
        "nyc-editor",
        "NYC",
        "Editor",
        jurisdiction="new-york-city",
        role=Council.EDITOR,
        public_name="Demo editor (New York City)",
    ),
)


# ------------------------------------------------------------------------------
# The service
# ------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """How many demo rows of each model the seed manages, and what it created this run."""

    jurisdictions: int = 0
    organizations: int = 0
    coalitions: int = 0
    coalition_memberships: int = 0
    plans: int = 0
    initiatives: int = 0
    partnerships: int = 0
    sources: int = 0
    milestones: int = 0
    indicators: int = 0
    measurements: int = 0
    initiative_links: int = 0
    users: int = 0
    council_memberships: int = 0
    contributions: int = 0
    created: int = 0
    accounts: tuple[str, ...] = field(default=())

    def counts(self) -> list[tuple[str, int]]:
        """(label, count) per model, in a stable order, for the command's output."""
        return [
            (name.replace("_", " ").capitalize(), getattr(self, name))
            for name in (
                "jurisdictions",
                "organizations",
                "coalitions",
                "coalition_memberships",
                "plans",
                "initiatives",
                "partnerships",
                "sources",
                "milestones",
                "indicators",
                "measurements",
                "initiative_links",
                "users",
                "council_memberships",
                "contributions",
            )
        ]


@transaction.atomic
def demo_seed(*, password: str) -> DemoSummary:
    """
    Create or refresh the demo data set, and give every demo account ``password``.

    Safe to run again: rows are matched by natural keys and updated in place, and
    the demo accounts only get their password reset. History rows name ``admin``.
    """
    seed = _Seed(today=timezone.localdate())
    admin = seed.accounts(password=password)
    seed.actor = admin
    seed.jurisdictions()
    seed.council_memberships()
    seed.organizations()
    seed.plans()
    seed.initiatives()
    seed.links()
    seed.coalitions()
    seed.workspace_examples()
    return seed.summary


class _Seed:
    """One run of the seed: the actor, today's date and the rows found so far."""

    def __init__(self, *, today: date) -> None:
        self.today = today
        self.actor: User | None = None
        self.summary = DemoSummary(accounts=tuple(spec.label for spec in ACCOUNTS))
        self.users: dict[str, User] = {}
        self.places: dict[str, Jurisdiction] = {}
        self.orgs: dict[str, Organization] = {}
        self.plan_rows: dict[str, Plan] = {}
        self.initiative_rows: dict[str, Initiative] = {}

    # ---------------------------------------------------------------- writes

    def upsert(
        self,
        model: type[M],
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        on_create: Mapping[str, Any] | None = None,
    ) -> M:
        """Find the row by ``key`` and bring it to ``values``, saving only what changed."""
        obj = model._default_manager.filter(**key).first()
        if obj is None:
            obj = model(**key, **values, **(on_create or {}))
            obj._history_user = self.actor  # type: ignore[attr-defined]
            obj.save()
            self.summary.created += 1
            return obj
        # Set even when nothing changes: m2m updates that follow record it too.
        obj._history_user = self.actor  # type: ignore[attr-defined]
        changed = [name for name, value in values.items() if _differs(obj, name, value)]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.save(update_fields=[*changed, *_auto_now_fields(model)])
        return obj

    def on(self, day: Day) -> date:
        return day if isinstance(day, date) else self.today + timedelta(days=day)

    # ---------------------------------------------------------------- steps

    def workspace_examples(self) -> None:
        """
        Give the Chicago council something to do: a draft returned by its reviewer,
        and a suggestion and a comment from the public waiting for moderation.
        Made once; a later run leaves them as the council has left them.
        """
        from council.models import Contribution
        from initiatives import workflow

        editor, reviewer = self.users["chicago-editor"], self.users["chicago-reviewer"]
        chicago = self.places["chicago"]
        if not Initiative.objects.filter(slug="chicago-digital-skills-bus").exists():
            draft = workflow.record_create(
                model=Initiative,
                values={
                    "jurisdiction": chicago,
                    "title": "Digital skills bus",
                    "slug": "chicago-digital-skills-bus",
                    "summary": "A library bus that teaches digital skills in every ward.",
                    "status": Initiative.Status.PLANNED,
                    "is_illustrative": True,
                },
                data={
                    "sources": [
                        {
                            "id": None,
                            "kind": "source",
                            "title": "Chicago Public Library: digital learning",
                            "url": "https://www.chipublib.org/",
                            "accessed_on": None,
                        }
                    ]
                },
                actor=editor,
            )
            workflow.record_submit(record=draft, actor=editor)
            workflow.record_return(
                record=draft,
                actor=reviewer,
                note="Please add the first milestone and the planned budget.",
            )
            self.summary.created += 1
        self.summary.initiatives += 1
        commented = Initiative.objects.published().filter(jurisdiction=chicago).first()
        examples = (
            {
                "kind": Contribution.Kind.SUGGESTION,
                "title": "Free Wi-Fi on CTA buses",
                "body": "Several cities equip their buses with free Wi-Fi. Could Chicago?",
            },
            {
                "kind": Contribution.Kind.COMMENT,
                "initiative": commented,
                "title": "",
                "body": "The open data portal helped our neighbourhood group a lot.",
            },
        )
        for values in examples:
            if values.get("initiative", chicago) is None:
                continue
            self.upsert(
                Contribution,
                {"jurisdiction": chicago, "email": "reader@example.org", "kind": values["kind"]},
                {},
                on_create={
                    **{k: v for k, v in values.items() if k != "kind"},
                    "name": "A Chicago reader",
                    "state": Contribution.State.PENDING,
                    "confirmed_at": timezone.now(),
                    "client_digest": "demo",
                },
            )
            self.summary.contributions += 1

    def accounts(self, *, password: str) -> User:
        """Create missing demo users; reset every demo user's password and nothing else."""
        user_model = get_user_model()
        # One hash for all accounts: with PBKDF2 each hash takes a noticeable fraction
        # of a second, and these accounts share a published demo password anyway.
        hashed = make_password(password)
        for spec in ACCOUNTS:
            user = user_model._default_manager.filter(username=spec.username).first()
            if user is None:
                user = user_model(
                    username=spec.username,
                    email=f"{spec.username}@example.org",
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    is_staff=True,
                    is_superuser=spec.is_superuser,
                    password=hashed,
                )
                user.save()
                self.summary.created += 1
            else:
                user.password = hashed
                user.save(update_fields=["password"])
            self.users[spec.username] = user
        self.summary.users = len(ACCOUNTS)
        return self.users["admin"]

    def jurisdictions(self) -> None:
        for spec in JURISDICTIONS:
            self.places[spec.slug] = self.upsert(
                Jurisdiction,
                {"ocd_id": spec.ocd_id},
                {
                    "slug": spec.slug,
                    "name": spec.name,
                    "kind": spec.kind,
                    "parent": self.places[spec.parent] if spec.parent else None,
                    "ocd_id_minted": spec.ocd_id_minted,
                    "iso_code": spec.iso_code,
                    "wikidata_qid": spec.wikidata_qid,
                    "geonames_id": spec.geonames_id,
                    "population": spec.population,
                    "latitude": spec.latitude,
                    "longitude": spec.longitude,
                    "time_zone": spec.time_zone,
                    "website": spec.website,
                    "description": spec.description,
                    "source_url": spec.source_url,
                    "is_illustrative": False,
                },
            )
        self.summary.jurisdictions = len(JURISDICTIONS)

    def council_memberships(self) -> None:
        """Give each demo account its council role, unless it already has a seat there."""
        for spec in ACCOUNTS:
            if spec.jurisdiction is None or spec.role is None:
                continue
            user = self.users[spec.username]
            place = self.places[spec.jurisdiction]
            if not CouncilMembership.objects.filter(user=user, jurisdiction=place).exists():
                membership = CouncilMembership(
                    user=user, jurisdiction=place, role=spec.role, public_name=spec.public_name
                )
                membership._history_user = self.actor  # type: ignore[attr-defined]
                membership.save()
                self.summary.created += 1
            self.summary.council_memberships += 1

    def organizations(self) -> None:
        for spec in ORGANIZATIONS:
            self.orgs[spec.slug] = self.upsert(
                Organization,
                {"slug": spec.slug},
                {
                    "name": spec.name,
                    "kind": spec.kind,
                    "jurisdiction": self.places[spec.jurisdiction] if spec.jurisdiction else None,
                    "website": spec.website,
                    "description": spec.description,
                    "source_url": spec.source_url,
                    "is_illustrative": False,
                },
            )
        self.summary.organizations = len(ORGANIZATIONS)

    def plans(self) -> None:
        for spec in PLANS:
            self.plan_rows[spec.slug] = self.upsert(
                Plan,
                {"slug": spec.slug},
                {
                    "jurisdiction": self.places[spec.jurisdiction],
                    "title": spec.title,
                    "summary": spec.summary,
                    "language": spec.language,
                    "published_on": spec.published_on,
                    "url": spec.url,
                    "source_url": spec.source_url,
                    "publication_state": spec.publication_state,
                    "is_illustrative": spec.is_illustrative,
                    "updated_by": self.actor,
                },
                on_create={"created_by": self.actor},
            )
        self.summary.plans = len(PLANS)

    def initiatives(self) -> None:
        focus_areas = _taxa(FocusArea)
        sectors = _taxa(Sector)
        for spec in INITIATIVES:
            initiative = self.initiative(spec)
            self.initiative_rows[spec.slug] = initiative
            _set_m2m(initiative.focus_areas, {focus_areas[slug] for slug in spec.focus_areas})
            _set_m2m(initiative.sectors, {sectors[slug] for slug in spec.sectors})
            self.children(initiative, spec)
        self.summary.initiatives = len(INITIATIVES)

    def initiative(self, spec: InitiativeSpec) -> Initiative:
        published = spec.publication_state == State.PUBLISHED
        # The publication time is when the Atlas first published the record; a
        # re-run keeps it rather than moving it to now.
        published_at = None
        if published:
            stored = (
                Initiative.objects.filter(slug=spec.slug)
                .values_list("published_at", flat=True)
                .first()
            )
            published_at = stored or timezone.now()
        amount, currency = spec.budget if spec.budget else (None, "")
        return self.upsert(
            Initiative,
            {"slug": spec.slug},
            {
                "jurisdiction": self.places[spec.jurisdiction],
                "plan": self.plan_rows[spec.plan] if spec.plan else None,
                "title": spec.title,
                "summary": spec.summary,
                "description": spec.description,
                "language": spec.language,
                "status": spec.status,
                "start_date": spec.start_date,
                "end_date": spec.end_date,
                "budget_amount": Decimal(amount) if amount is not None else None,
                "budget_currency": currency,
                "lead_organization": self.orgs[spec.lead] if spec.lead else None,
                "publication_state": spec.publication_state,
                "published_at": published_at,
                "is_illustrative": spec.is_illustrative,
                "updated_by": self.actor,
            },
            on_create={"created_by": self.actor},
        )

    def children(self, initiative: Initiative, spec: InitiativeSpec) -> None:
        partners = ((spec.lead, Role.LEAD),) if spec.lead else ()
        for slug, role in (*partners, *spec.partners):
            self.upsert(
                Partnership,
                {"initiative": initiative, "organization": self.orgs[slug], "role": role},
                {},
            )
            self.summary.partnerships += 1
        for source in spec.sources:
            self.upsert(
                Source,
                {"initiative": initiative, "url": source.url},
                {"title": source.title, "kind": source.kind},
            )
            self.summary.sources += 1
        for milestone in spec.milestones:
            completed = milestone.completed
            self.upsert(
                Milestone,
                {"initiative": initiative, "title": milestone.title},
                {
                    "due_date": self.on(milestone.due),
                    "completed_on": self.on(completed) if completed is not None else None,
                },
            )
            self.summary.milestones += 1
        for indicator_spec in spec.indicators:
            indicator = self.upsert(
                Indicator,
                {"initiative": initiative, "name": indicator_spec.name},
                {
                    "unit": indicator_spec.unit,
                    "baseline": _decimal(indicator_spec.baseline),
                    "target": _decimal(indicator_spec.target),
                },
            )
            self.summary.indicators += 1
            for measurement in indicator_spec.measurements:
                self.upsert(
                    Measurement,
                    {"indicator": indicator, "measured_on": measurement.measured_on},
                    {"value": Decimal(measurement.value), "source_url": measurement.source_url},
                )
                self.summary.measurements += 1

    def links(self) -> None:
        for spec in LINKS:
            self.upsert(
                InitiativeLink,
                {
                    "from_initiative": self.initiative_rows[spec.source],
                    "to_initiative": self.initiative_rows[spec.target],
                    "kind": spec.kind,
                },
                {"note": spec.note},
            )
        self.summary.initiative_links = len(LINKS)

    def coalitions(self) -> None:
        for spec in COALITIONS:
            coalition = self.upsert(
                Coalition,
                {"slug": spec.slug},
                {
                    "jurisdiction": self.places[spec.jurisdiction],
                    "name": spec.name,
                    "description": spec.description,
                    "founded_on": spec.founded_on,
                    "website": spec.website,
                    "source_url": spec.source_url,
                    "is_illustrative": spec.is_illustrative,
                },
            )
            for member in spec.members:
                self.upsert(
                    CoalitionMembership,
                    {
                        "coalition": coalition,
                        "organization": self.orgs[member.organization],
                        "role": member.role,
                    },
                    {"since": member.since, "until": member.until},
                )
                self.summary.coalition_memberships += 1
        self.summary.coalitions = len(COALITIONS)


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    model_field = obj._meta.get_field(name)
    if isinstance(model_field, models.ForeignKey):
        # Compare ids, so that an unchanged relation costs no query.
        wanted = value.pk if value is not None else None
        return bool(getattr(obj, model_field.attname) != wanted)
    return bool(getattr(obj, name) != value)


def _auto_now_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _taxa(model: type[FocusArea] | type[Sector]) -> dict[str, Any]:
    found = {taxon.slug: taxon for taxon in model._default_manager.all()}
    if not found:
        raise LookupError(
            f"No {model._meta.verbose_name_plural} found: run the migrations first, "
            "they create the taxonomies."
        )
    return found


def _set_m2m(manager: Any, wanted: set[models.Model]) -> None:
    """Set a many-to-many relation only when it differs, to keep history quiet."""
    if set(manager.all()) != wanted:
        manager.set(wanted)
