"""factory_boy factories for the Atlas's models."""

import factory
from django.contrib.auth.models import User

from cities.models import Jurisdiction
from council.models import (
    Coalition,
    CoalitionMembership,
    CouncilMembership,
    Organization,
)
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Source,
)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class JurisdictionFactory(factory.django.DjangoModelFactory[Jurisdiction]):
    class Meta:
        model = Jurisdiction
        django_get_or_create = ("ocd_id",)

    kind = Jurisdiction.Kind.PLACE
    name = factory.Sequence(lambda n: f"Place {n}")
    slug = factory.Sequence(lambda n: f"place-{n}")
    ocd_id = factory.Sequence(lambda n: f"ocd-division/country:us/state:zz/place:place_{n}")


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    kind = Organization.Kind.UNIVERSITY


class CoalitionFactory(factory.django.DjangoModelFactory[Coalition]):
    class Meta:
        model = Coalition

    jurisdiction = factory.SubFactory(JurisdictionFactory)
    name = factory.Sequence(lambda n: f"Council for Digital Era Leadership {n}")
    slug = factory.Sequence(lambda n: f"coalition-{n}")


class CoalitionMembershipFactory(factory.django.DjangoModelFactory[CoalitionMembership]):
    class Meta:
        model = CoalitionMembership

    coalition = factory.SubFactory(CoalitionFactory)
    organization = factory.SubFactory(OrganizationFactory)


class CouncilMembershipFactory(factory.django.DjangoModelFactory[CouncilMembership]):
    class Meta:
        model = CouncilMembership

    user = factory.SubFactory(UserFactory)
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    role = CouncilMembership.Role.EDITOR


class PlanFactory(factory.django.DjangoModelFactory[Plan]):
    class Meta:
        model = Plan

    jurisdiction = factory.SubFactory(JurisdictionFactory)
    title = factory.Sequence(lambda n: f"Digital road map {n}")
    slug = factory.Sequence(lambda n: f"plan-{n}")
    publication_state = PublicationState.PUBLISHED


class InitiativeFactory(factory.django.DjangoModelFactory[Initiative]):
    class Meta:
        model = Initiative
        skip_postgeneration_save = True

    jurisdiction = factory.SubFactory(JurisdictionFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    slug = factory.Sequence(lambda n: f"initiative-{n}")
    summary = "Free public Wi-Fi in every library branch."
    status = Initiative.Status.ACTIVE
    publication_state = PublicationState.PUBLISHED

    @factory.post_generation
    def focus_areas(
        self, create: bool, extracted: list[FocusArea] | None, **kwargs: object
    ) -> None:
        if create and extracted:
            self.focus_areas.set(extracted)


class MilestoneFactory(factory.django.DjangoModelFactory[Milestone]):
    class Meta:
        model = Milestone

    initiative = factory.SubFactory(InitiativeFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")


class IndicatorFactory(factory.django.DjangoModelFactory[Indicator]):
    class Meta:
        model = Indicator

    initiative = factory.SubFactory(InitiativeFactory)
    name = "Households connected"
    unit = "%"


class MeasurementFactory(factory.django.DjangoModelFactory[Measurement]):
    class Meta:
        model = Measurement

    indicator = factory.SubFactory(IndicatorFactory)
    measured_on = factory.Sequence(
        lambda n: __import__("datetime").date(2020, 1, 1) + __import__("datetime").timedelta(days=n)
    )
    value = 10


class PartnershipFactory(factory.django.DjangoModelFactory[Partnership]):
    class Meta:
        model = Partnership

    initiative = factory.SubFactory(InitiativeFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Partnership.Role.IMPLEMENTER


class SourceFactory(factory.django.DjangoModelFactory[Source]):
    class Meta:
        model = Source

    initiative = factory.SubFactory(InitiativeFactory)
    title = "City press release"
    url = "https://example.org/press"
