"""
The founding taxonomies, in English and French.

Data migrations load these; the tuples are (slug, English name, French name,
English description, French description).
"""

FOCUS_AREAS: list[tuple[str, str, str, str, str]] = [
    (
        "technology-access",
        "Technology access and infrastructure",
        "Accès aux technologies et infrastructures",
        "Broadband, public Wi-Fi, devices and digital inclusion for every resident.",
        "Haut débit, Wi-Fi public, équipements et inclusion numérique pour chaque habitant.",
    ),
    (
        "open-government",
        "Open government / government 2.0",
        "Gouvernement ouvert / gouvernement 2.0",
        "Open data, transparency and digital public services.",
        "Données ouvertes, transparence et services publics numériques.",
    ),
    (
        "citizen-engagement",
        "Citizen engagement",
        "Participation citoyenne",
        "Digital channels for residents to take part in public decisions.",
        "Canaux numériques permettant aux habitants de participer aux décisions publiques.",
    ),
    (
        "digital-economy",
        "Digital economy and start-ups",
        "Économie numérique et start-up",
        "Start-ups, incubators, venture capital and the technology sector.",
        "Start-up, incubateurs, capital-risque et secteur technologique.",
    ),
    (
        "industry-transformation",
        "Transformation of traditional industries",
        "Transformation des industries traditionnelles",
        "Manufacturing, retail, finance, agriculture and media adopting digital tools.",
        "Industrie, commerce, finance, agriculture et médias adoptant les outils numériques.",
    ),
    (
        "education-talent",
        "Education, STEM and digital-era talent",
        "Éducation, STIM et talents de l'ère numérique",
        "Schools, STEM programmes and training for digital-era skills.",
        "Écoles, programmes STIM et formations aux compétences de l'ère numérique.",
    ),
    (
        "university-research",
        "University research and leadership training",
        "Recherche universitaire et formation des dirigeants",
        "University research and programmes that train digital-era leaders.",
        "Recherche universitaire et programmes formant les dirigeants de l'ère numérique.",
    ),
    (
        "legal-policy",
        "Legal and policy",
        "Droit et politiques publiques",
        "Intellectual property, privacy, e-discovery and employment practice.",
        "Propriété intellectuelle, vie privée, e-discovery et pratiques d'emploi.",
    ),
    (
        "human-capital",
        "Human-capital management",
        "Gestion du capital humain",
        "Recruiting, developing and keeping the people digital work needs.",
        "Recruter, développer et fidéliser les personnes dont le numérique a besoin.",
    ),
    (
        "stakeholder-communication",
        "Communication with customers and stakeholders",
        "Communication avec les usagers et les parties prenantes",
        "Digital communication with customers, residents and stakeholders.",
        "Communication numérique avec les usagers, les habitants et les parties prenantes.",
    ),
    (
        "health-care",
        "Health care",
        "Santé",
        "Digital health services, records and telemedicine.",
        "Services de santé numériques, dossiers médicaux et télémédecine.",
    ),
    (
        "museums-culture",
        "Museums and culture",
        "Musées et culture",
        "Digitised collections, virtual visits and cultural participation.",
        "Collections numérisées, visites virtuelles et participation culturelle.",
    ),
    (
        "biotechnology",
        "Biotechnology",
        "Biotechnologies",
        "Life-science research and biotechnology companies.",
        "Recherche en sciences de la vie et entreprises de biotechnologie.",
    ),
]

SECTORS: list[tuple[str, str, str, str, str]] = [
    ("consumer-products", "Consumer products", "Biens de consommation", "", ""),
    ("health-care", "Health care", "Santé", "", ""),
    ("museums", "Museums", "Musées", "", ""),
    ("financial-services", "Financial services", "Services financiers", "", ""),
    ("manufacturing", "Manufacturing", "Industrie manufacturière", "", ""),
    ("retail", "Retail", "Commerce de détail", "", ""),
    ("agriculture", "Agriculture", "Agriculture", "", ""),
    ("media", "Media", "Médias", "", ""),
    ("non-profit", "Non-profit", "Associatif", "", ""),
    ("government", "Government", "Administration publique", "", ""),
    ("higher-education", "Higher education", "Enseignement supérieur", "", ""),
    ("technology", "Technology", "Technologies", "", ""),
]
