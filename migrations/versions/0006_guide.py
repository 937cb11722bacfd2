"""guide: the live-video guide's pages and revisions, with the pages' first text

The pages first shipped as Markdown in app/content/guide/; this migration stores their
text of that time (copied below) once, with a first revision each. Admins then edit them
in the browser.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# (position, slug, title, body): the pages as they first shipped, copied here rather than read
# from app/content/guide/, which may change later; upgrading an old database must always
# store these same first versions. Edits reach the pages through the editor, not this file.
PAGES = (
    (
        1,
        "introduction",
        "Introduction : ce que ce guide traite, et ce qu'il ne traite pas",
        """\
Ce guide accompagne les structures du réseau Science(s) en Occitanie qui veulent proposer une **vidéo en direct** (un « live ») : une rencontre avec une chercheuse, une visite de laboratoire, une expérience commentée, un quiz avec une classe. Il est écrit pour celles et ceux qui se lancent comme pour celles et ceux qui veulent consolider ce qu'ils ont appris en expérimentant.

## Ce que vous y trouverez

- des exemples de lives qui ont fonctionné, pour se faire une idée de ce qui est possible ;
- les outils nécessaires, gratuits ou payants, et ceux que le réseau met en commun dans La Malle ;
- des conseils pratiques pour l'avant, le pendant et l'après, techniques et juridiques ;
- les contacts utiles et les formations proposées par le réseau.

## Ce que vous n'y trouverez pas

Ce guide ne traite que de la vidéo en direct. Les podcasts, les vidéos montées, les expositions virtuelles ou les jeux en ligne méritent chacun leur propre guide. Il ne remplace pas non plus un conseil juridique : pour une situation particulière (mineurs, images d'archives, musique), renseignez-vous auprès d'un·e juriste.

## Comment le lire

Chaque partie se lit seule. Si vous préparez votre premier live, commencez par les **outils** puis les **conseils** ; si vous hésitez encore, regardez d'abord les **exemples**.
""",
    ),
    (
        2,
        "exemples",
        "Exemples de lives",
        """\
Quelques formats qui ont bien marché, en Occitanie et ailleurs. Les noms sont donnés pour inspiration : chaque projet a ses moyens et son public.

## La visite de laboratoire en direct

Une médiatrice se promène avec une caméra légère dans un laboratoire ; un·e chercheur·se montre ses instruments et répond aux questions posées dans le fil de discussion. Durée conseillée : 30 à 45 minutes. Le secret : un repérage la veille et une deuxième personne qui lit les questions.

## Le live « une question, un·e scientifique »

Le public envoie ses questions à l'avance ; une animatrice les pose en direct à un·e invité·e. Le format est simple à produire depuis un bureau, avec un bon micro et un fond soigné.

## L'expérience commentée

Une expérience spectaculaire (chimie, physique, cuisine moléculaire) filmée en plan fixe, pendant qu'une seconde caméra montre les visages. Un logiciel de régie comme OBS permet de passer d'un plan à l'autre.

## Le quiz avec une classe

Une classe suit le direct depuis sa salle ; un quiz interactif ponctue l'intervention toutes les dix minutes. Les élèves répondent depuis leurs tablettes, et l'intervenant·e commente les résultats.

## Le direct depuis le terrain

Une sortie naturaliste ou une fouille archéologique, en extérieur, avec un smartphone sur stabilisateur et une connexion 4G. Prévoir un plan B si le réseau tombe : une vidéo courte préenregistrée.
""",
    ),
    (
        3,
        "outils",
        "Outils et ressources",
        """\
Un live réussi tient d'abord au son, ensuite à la lumière, enfin à l'image. Voici ce qu'il faut, du gratuit au payant, et ce que le réseau met en commun : vous pouvez le réserver directement.

## Le son

Un public pardonne une image moyenne, jamais un son inaudible. Un micro-cravate par intervenant·e, ou un micro main pour un débat, change tout.

[[reserver:micro]]

## L'image

Un smartphone récent suffit pour commencer. Pour un rendu plus professionnel, ou pour plusieurs plans, une caméra branchée sur un ordinateur.

[[reserver:camera]]

## La lumière

Une lumière douce, de face, un peu au-dessus des yeux. Un ou deux panneaux LED suffisent dans une pièce sombre.

[[reserver:eclairage]]

## La régie et la diffusion

OBS Studio, libre et gratuit, compose les plans, les titres et les sources, et diffuse vers YouTube, Facebook ou une plateforme de visioconférence. Les kits de streaming du réseau contiennent un ordinateur préparé, une carte d'acquisition, des micros et une caméra.

[[reserver:kit-streaming]]

## La visioconférence et l'interaction

Pour un public restreint qui prend la parole, une visioconférence ; pour un quiz, un outil interactif. Le réseau partage des comptes payants.

[[reserver:compte-visio]]

[[reserver:compte-quiz]]
""",
    ),
    (
        4,
        "conseils",
        "Conseils pour réaliser un live",
        """\
## En amont

- **Définissez votre public** et l'objectif : découvrir, comprendre, débattre ? La durée et le ton en découlent.
- **Écrivez un déroulé** minute par minute, avec les transitions et qui parle quand.
- **Faites une répétition technique** dans les conditions réelles (même lieu, même connexion, même heure).
- **Annoncez le live** une à deux semaines avant, avec le lien et l'heure ; relancez la veille.

## Pendant

- Une personne à l'image, une autre **en régie** qui surveille le son, le fil de discussion et le temps.
- Saluez les personnes qui arrivent, **lisez les questions à voix haute** avant d'y répondre.
- Gardez un **plan B** : une vidéo préenregistrée, un numéro pour joindre l'invité·e.

## Après

- Publiez le **replay** avec un titre clair et les chapitres.
- Répondez aux questions restées sans réponse.
- Faites un **bilan** : audience, moments forts, ce qui a manqué.

## Aspects techniques

- Une connexion filaire vaut mieux que le wifi ; visez au moins 5 Mb/s en envoi.
- Coupez les notifications de l'ordinateur et du téléphone.
- Testez le son avec un casque, pas avec les haut-parleurs.

## Aspects juridiques

- **Droit à l'image** : toute personne reconnaissable doit avoir donné son accord écrit ; pour un·e mineur·e, celui de ses responsables légaux.
- **Enregistrement** : si le live est enregistré et republié, dites-le au début et obtenez le consentement des personnes qui interviennent.
- **Droit d'auteur** : musiques, images et extraits de films appartiennent à leurs auteurs ; utilisez des œuvres sous licence libre ou dont vous avez les droits, et citez les sources.
- **Données personnelles** : ne montrez pas les noms ou messages du public sans nécessité.
""",
    ),
    (
        5,
        "contacts",
        "Contacts et informations utiles",
        """\
## Se faire aider

Les animatrices et animateurs départementaux du réseau prêtent le matériel et connaissent les technicien·nes de leur territoire : retrouvez l'hôte de votre département sur la page de chaque ressource de La Malle.

## Se former

Le réseau organise des formations courtes et concrètes. Les prochaines sessions :

[[formations:obs-studio]]

[[formations:live-video]]

[[formations:droits]]

## Pour aller plus loin

- la documentation d'OBS Studio, en français, pour la régie et la diffusion ;
- les fiches de la CNIL sur le droit à l'image et les données personnelles ;
- les licences Creative Commons, pour choisir et citer des contenus réutilisables.
""",
    ),
)


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "guide_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_guide_pages_slug")),
    )
    op.create_table(
        "guide_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_guide_revisions_author_id_users")),
        sa.ForeignKeyConstraint(
            ["page_id"], ["guide_pages.id"], name=op.f("fk_guide_revisions_page_id_guide_pages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_revisions")),
    )
    with op.batch_alter_table("guide_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guide_revisions_page_id"), ["page_id"], unique=False)

    now = datetime.now(UTC)
    pages = sa.table(
        "guide_pages",
        sa.column("id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("position", sa.Integer),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    revisions = sa.table(
        "guide_revisions",
        sa.column("page_id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("note", sa.String),
    )
    rows = list(PAGES)
    op.bulk_insert(
        pages,
        [
            {"id": n, "slug": slug, "position": pos, "title": title, "body": body, "updated_at": now}
            for n, (pos, slug, title, body) in enumerate(rows, start=1)
        ],
    )
    op.bulk_insert(
        revisions,
        [
            {"page_id": n, "title": title, "body": body, "created_at": now, "note": "Version initiale"}
            for n, (_pos, _slug, title, body) in enumerate(rows, start=1)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('guide_pages_id_seq', (SELECT max(id) FROM guide_pages))")


def downgrade():
    with op.batch_alter_table("guide_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_revisions_page_id"))

    op.drop_table("guide_revisions")
    op.drop_table("guide_pages")
