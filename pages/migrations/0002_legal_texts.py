"""The privacy policy, contact page and imprint as first published; staff keep them up to date in the admin.

Organisation details come from the cluster's founding texts and the hubs' data migration (headquarters address).
The CVR number is not in those sources: the imprint says so, and the secretariat fills it in the admin."""

from django.db import migrations

ADDRESS_DA = "Ole Maaløes Vej 3, 2200 København N"
ADDRESS_EN = "Ole Maaløes Vej 3, 2200 Copenhagen N, Denmark"
BR = "  "  # a Markdown line break: address blocks keep their lines

PRIVACY_DA = f"""Danish Life Science Cluster (DLSC) er dataansvarlig for de personoplysninger, der behandles på denne
portal. Du kan altid kontakte os på privacy@dlsc.example eller skrive til {ADDRESS_DA}.

## Hvad vi gemmer, og hvorfor

- **Din konto:** e-mailadresse, navn, foretrukket sprog, en krypteret adgangskode og eventuel to-faktor-godkender.
  Vi bruger dem til at logge dig ind og skrive til dig på dit sprog (behandlingsgrundlag: aftale).
- **Medlemskab:** virksomhedens oplysninger, kontaktpersoner og deres roller, ansøgning og kontingent
  (behandlingsgrundlag: aftale og bogføringsloven).
- **Arrangementer:** navn, e-mail, organisation, rolle og svar på arrangementets spørgsmål, når du tilmelder dig,
  og om du mødte op. Vi bruger dem til bekræftelse, påmindelser, ændringer og deltagerliste
  (behandlingsgrundlag: aftale og legitim interesse).
- **Matchmaking:** den profil, du selv udfylder (hvad du tilbyder og søger), og de møder, du anmoder om eller
  accepterer. Profilen vises kun for andre deltagere i samme arrangement.
- **Nyhedsbrev:** e-mailadresse, emner, sprog og en registrering af dit samtykke (tidspunkt og tekst). Vi sender
  kun nyhedsbreve, efter du har bekræftet din adresse (behandlingsgrundlag: samtykke).
- **E-mails, vi sender:** en kopi af hver e-mail, portalen sender, og om den blev leveret.

Vi deler ikke oplysningerne med andre end arrangørerne og medarrangørerne af et arrangement, du tilmelder dig, og
de leverandører, der driver portalen og sender e-mails for os (databehandlere).

## Hvor længe

Vi sletter eller anonymiserer oplysninger, når de ikke længere er nødvendige: tilmeldinger efter arrangementet er
afsluttet og opfølgningen er sket, nyhedsbrevsabonnementer når du afmelder dig (samtykkeregistreringen gemmes som
dokumentation), og konti når du sletter dem. Regnskabsmateriale gemmes i fem år efter bogføringsloven.

## Dine rettigheder

Du har ret til indsigt, berigtigelse, sletning, begrænsning, dataportabilitet og til at gøre indsigelse. Under
**Min konto** kan du hente alle dine oplysninger og slette din konto. Du kan trække et samtykke tilbage når som
helst, fx med linket nederst i hvert nyhedsbrev.

Du kan klage til Datatilsynet, Carl Jacobsens Vej 35, 2500 Valby, [www.datatilsynet.dk](https://www.datatilsynet.dk).

## Cookies

Portalen bruger kun de cookies, der er nødvendige for, at den virker: en sessionscookie, når du er logget ind,
en sikkerhedscookie mod falske formularer og en cookie, der husker dit sprog. Vi bruger ingen cookies til
statistik eller markedsføring, og vi henter intet fra andre websteder.
"""

PRIVACY_EN = f"""Danish Life Science Cluster (DLSC) is the controller of the personal data processed on this portal.
You can always reach us at privacy@dlsc.example or by post at {ADDRESS_EN}.

## What we keep, and why

- **Your account:** email address, name, preferred language, an encrypted password and any two-factor
  authenticator. We use them to sign you in and to write to you in your language (legal basis: contract).
- **Membership:** your company's details, its contact people and their roles, the application and the fees
  (legal basis: contract and the Danish Bookkeeping Act).
- **Events:** name, email, organisation, role and your answers to the event's questions when you sign up, and
  whether you came. We use them for the confirmation, reminders, changes and the list of participants (legal
  basis: contract and legitimate interest).
- **Matchmaking:** the profile you fill in yourself (what you offer and seek) and the meetings you request or
  accept. Your profile is shown only to other participants of the same event.
- **Newsletter:** email address, topics, language and a record of your consent (when, and to which text). We
  send newsletters only after you have confirmed your address (legal basis: consent).
- **Emails we send:** a copy of each email the portal sends, and whether it was delivered.

We share data only with the organisers and co-hosts of an event you sign up for, and with the suppliers who run
the portal and send email for us (processors).

## How long

We delete or anonymise data once it is no longer needed: registrations after the event is over and followed up,
newsletter subscriptions when you unsubscribe (the consent record is kept as evidence), and accounts when you
delete them. Accounting records are kept for five years, as the Bookkeeping Act requires.

## Your rights

You have the right of access, rectification, erasure, restriction, data portability and to object. Under
**My account** you can download all your data and delete your account. You can withdraw a consent at any time,
for instance with the link at the foot of every newsletter.

You can complain to the Danish Data Protection Agency (Datatilsynet), Carl Jacobsens Vej 35, 2500 Valby,
[www.datatilsynet.dk](https://www.datatilsynet.dk).

## Cookies

The portal uses only the cookies it needs to work: a session cookie while you are signed in, a security cookie
against forged forms and a cookie that remembers your language. We use no cookies for statistics or marketing,
and we load nothing from other websites.
"""

CONTACT_DA = f"""## Sekretariatet

Danish Life Science Cluster{BR}
{ADDRESS_DA}{BR}
E-mail: info@dlsc.example

## Vores hubs

Klyngen arbejder fra regionale hubs. Skriv direkte til den hub, der ligger nærmest dig:

- **København** (hovedkontor): copenhagen@dlsc.example
- **Aarhus**: aarhus@dlsc.example
- **Odense**: odense@dlsc.example
- **Aalborg**: aalborg@dlsc.example

## Medlemskab, arrangementer og nyhedsbrev

Spørgsmål om medlemskab og kontingent: members@dlsc.example. Spørgsmål om et arrangement: skriv til den hub, der
står som arrangør. Nyhedsbrevet kan du afmelde med linket nederst i hvert nyhedsbrev.

## Personoplysninger

Henvendelser om dine personoplysninger: privacy@dlsc.example. Læs mere i vores privatlivspolitik.
"""

CONTACT_EN = f"""## The secretariat

Danish Life Science Cluster{BR}
{ADDRESS_EN}{BR}
Email: info@dlsc.example

## Our hubs

The cluster works from regional hubs. Write directly to the hub nearest you:

- **Copenhagen** (headquarters): copenhagen@dlsc.example
- **Aarhus**: aarhus@dlsc.example
- **Odense**: odense@dlsc.example
- **Aalborg**: aalborg@dlsc.example

## Membership, events and newsletter

Questions about membership and fees: members@dlsc.example. Questions about an event: write to the hub that
organises it. You can unsubscribe from the newsletter with the link at the foot of every issue.

## Personal data

Questions about your personal data: privacy@dlsc.example. Read more in our privacy policy.
"""

IMPRINT_DA = f"""**Danish Life Science Cluster** (DLSC){BR}
Forening, stiftet i 2020 af 26 organisationer{BR}
{ADDRESS_DA}{BR}
CVR-nr.: oplyses af sekretariatet{BR}
E-mail: info@dlsc.example

Danish Life Science Cluster er Danmarks nationale klyngeorganisation for life science og velfærdsteknologi: en
medlemsdrevet og medlemsbetalt forening, der skal skabe flere vidensbaserede vækstvirksomheder og mere
kommercialisering af forskning. Klyngen dækker biotek, lægemidler, medico, hjælpemidler, velfærdsteknologi og
digitale sundhedsløsninger.

Ansvarlig for indholdet: klyngens sekretariat. Portalen ejes og drives af Danish Life Science Cluster.
"""

IMPRINT_EN = f"""**Danish Life Science Cluster** (DLSC){BR}
Association, founded in 2020 by 26 organisations{BR}
{ADDRESS_EN}{BR}
CVR number (Danish company register): available from the secretariat{BR}
Email: info@dlsc.example

Danish Life Science Cluster is Denmark's national cluster organisation for life science and welfare technology: a
member-driven and member-paid association working for more knowledge-based growth companies and more
commercialisation of research. The cluster covers biotech, pharmaceuticals, medtech, assistive technology,
welfare technology and digital health solutions.

Responsible for the content: the cluster's secretariat. The portal is owned and run by Danish Life Science Cluster.
"""

PAGES = [
    ("privacy", "Privatlivspolitik", "Privacy policy", PRIVACY_DA, PRIVACY_EN),
    ("contact", "Kontakt", "Contact", CONTACT_DA, CONTACT_EN),
    ("imprint", "Om os og juridiske oplysninger", "Imprint", IMPRINT_DA, IMPRINT_EN),
]


def load(apps, schema_editor):
    Page = apps.get_model("pages", "Page")
    for kind, title_da, title_en, body_da, body_en in PAGES:
        Page.objects.update_or_create(
            kind=kind,
            defaults={
                "title": title_da,
                "title_da": title_da,
                "title_en": title_en,
                "body": body_da.strip(),
                "body_da": body_da.strip(),
                "body_en": body_en.strip(),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("pages", "0001_page")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
