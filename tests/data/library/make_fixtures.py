"""Regenerate the PDF and Word readings: `.venv/bin/python tests/data/library/make_fixtures.py`.

The Markdown and HTML readings are written by hand; the PDF (fpdf2, core fonts, so
plain ASCII only) and the .docx (python-docx) are made here from the texts below.
Dates are fixed so that the output is the same from one run to the next. After
changing a text, check the questions' gold quotes still match the extracted text
(``pytest tests/test_library_devset.py``).
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import docx
from fpdf import FPDF

HERE = Path(__file__).resolve().parent
AUTHOR = "Security Studies Course Team"
FIXED_DATE = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)

# -- the PDF: one section per page ------------------------------------------------------------

CLIMATE_TITLE = "Climate Change and Security"
CLIMATE_HEADER = "Introduction to International Security - Week 6 reading"
CLIMATE_PAGES: list[tuple[str, list[str]]] = [
    (
        "A threat multiplier",
        [
            "Climate change is no longer treated only as an environmental problem. Governments, armed "
            "forces and international organisations increasingly describe it as a security issue as well. "
            "Climate security refers to the ways in which the effects of climate change, such as rising "
            "temperatures, droughts, floods and sea-level rise, can increase the risk of instability and "
            "conflict.",
            "In April 2007 the United Nations Security Council held its first open debate on the links "
            "between energy, climate and security. The debate was convened by the United Kingdom, which "
            "held the presidency of the Council that month. In the same year a group of retired American "
            "generals and admirals, the Military Advisory Board of the CNA Corporation, published a report "
            "called National Security and the Threat of Climate Change. The report described climate "
            'change as a "threat multiplier" for instability in some of the most volatile regions of the '
            "world.",
            "The term threat multiplier captures a central idea of this literature. Climate change is "
            "rarely treated as the direct cause of a war. Instead it is said to worsen existing problems, "
            "such as poverty, weak institutions and competition over land and water, which may then "
            "contribute to violence.",
        ],
    ),
    (
        "Water, food and conflict",
        [
            "Lake Chad, on the borders of Chad, Cameroon, Niger and Nigeria, is one of the most cited "
            "examples. The lake has lost around 90 percent of its surface area since the 1960s, according "
            "to widely used estimates. Falling water levels have damaged fishing, farming and herding "
            "around the lake, in a region that is also affected by the insurgency of Boko Haram.",
            "In the Sahel, violent clashes between farmers and herders have been linked by some "
            "researchers to changing rainfall and the loss of grazing land. Other researchers stress that "
            "land policy, governance and the spread of weapons matter more than the weather.",
            "The war in Syria has been at the centre of a similar debate. Between 2006 and 2010 parts of "
            "Syria suffered a severe drought, and hundreds of thousands of rural people moved to the "
            "cities. Some studies have argued that this drought contributed to the unrest that began in "
            "2011, while critics reply that the evidence for such a link is weak and that it distracts "
            "attention from the responsibility of the government.",
            "Food prices provide another pathway. When harvests fail in major exporting countries, world "
            "prices can rise sharply, and sudden price rises have been followed by protests and riots in "
            "countries that depend on imported food, as happened in 2008.",
        ],
    ),
    (
        "Displacement",
        [
            "Extreme weather already forces large numbers of people to leave their homes. The UN refugee "
            "agency, UNHCR, has reported that weather-related hazards displaced an annual average of 21.5 "
            "million people between 2008 and 2016. Most of these people move within their own countries "
            "rather than across borders.",
            'People who flee because of the effects of climate change are often called "climate '
            'refugees", but the term has no standing in international law. The 1951 Refugee Convention '
            "protects people who fear persecution, and a drought or a flood is not persecution in the "
            "legal sense.",
            "In January 2020 the UN Human Rights Committee decided the case of Ioane Teitiota, a man from "
            "Kiribati who had sought protection in New Zealand. The Committee found that New Zealand had "
            "not violated his right to life by sending him back, but it accepted that the effects of "
            "climate change could in future oblige states not to return people to places where their "
            "lives would be at risk.",
        ],
    ),
    (
        "Securitizing the climate",
        [
            "Not everyone welcomes the language of security. Scholars of the Copenhagen School, among "
            "them Barry Buzan and Ole Waever, developed the concept of securitization. Securitization is "
            "the process by which an issue is presented as an existential threat that justifies emergency "
            "measures beyond normal politics. Critics warn that securitizing climate change may put armed "
            "forces and border controls at the centre of the response, rather than cuts in emissions and "
            "support for vulnerable communities.",
            "Armed forces are themselves part of the problem and part of the response. Militaries are "
            "large consumers of fossil fuels, and the emissions of military activities are only partly "
            "covered by international reporting rules. At the same time, soldiers are often called on to "
            "help after floods, storms and fires.",
            "The melting of Arctic sea ice is opening new shipping routes, such as the Northern Sea Route "
            "along the coast of Russia, and new access to oil, gas and minerals. This has raised concerns "
            "about competition between the Arctic states and about a growing military presence in the "
            "region.",
            "The Paris Agreement, adopted in 2015, commits its parties to holding the increase in the "
            "global average temperature to well below 2 degrees Celsius above pre-industrial levels and "
            "to pursuing efforts to limit it to 1.5 degrees. From a security perspective, meeting these "
            "goals is a form of prevention: every tenth of a degree avoided reduces the pressures "
            "described in this reading.",
        ],
    ),
]


class _Reading(FPDF):
    """A course reader's pages: a running header and "Page N of M" at the foot."""

    def header(self) -> None:
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 8, CLIMATE_HEADER, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def write_pdf(path: Path) -> None:
    pdf = _Reading(format="A4")
    pdf.set_title(CLIMATE_TITLE)
    pdf.set_author(AUTHOR)
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(25, 20, 25)
    for number, (heading, paragraphs) in enumerate(CLIMATE_PAGES):
        pdf.add_page()
        if number == 0:
            pdf.set_font("Helvetica", "B", 18)
            pdf.multi_cell(0, 10, CLIMATE_TITLE, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "I", 11)
            pdf.multi_cell(0, 7, f"{AUTHOR}, October 2024", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(6)
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)  # the space between paragraphs
    path.write_bytes(bytes(pdf.output()))


# -- the Word file ------------------------------------------------------------------------------

R2P_TITLE = "Humanitarian Intervention and the Responsibility to Protect"
# ("heading", text) starts a section; ("table", _) is where R2P_PILLARS goes; ("p", text) is a paragraph.
R2P_BLOCKS: list[tuple[str, str]] = [
    ("p", "Week 7 reading for Introduction to International Security."),
    (
        "p",
        "Humanitarian intervention is the use of military force by a state or a group of states in the "
        "territory of another state, without the consent of its government, in order to prevent or end "
        "grave violations of human rights. It sets two principles of international order against each "
        "other: the sovereignty of states and the protection of human beings. The Charter of the United "
        "Nations prohibits the use of force against other states, with two exceptions: self-defence and "
        "action authorised by the Security Council.",
    ),
    ("heading", "The failures of the 1990s"),
    (
        "p",
        "In Rwanda in 1994, around 800,000 people, most of them Tutsi, were killed in about 100 days. A "
        "small United Nations peacekeeping force, UNAMIR, was present in the country, but the Security "
        "Council reduced it after the killing began instead of reinforcing it.",
    ),
    (
        "p",
        "In July 1995 Bosnian Serb forces overran Srebrenica, which the United Nations had declared a "
        "safe area, and killed more than 8,000 Bosniak men and boys. The International Court of Justice "
        "later ruled that the massacre was an act of genocide.",
    ),
    (
        "p",
        "In 1999 NATO conducted an air campaign against the Federal Republic of Yugoslavia to stop the "
        "repression of the Albanian population of Kosovo. The campaign lasted 78 days, from March to June "
        "1999, and it was not authorised by the Security Council, where Russia and China opposed military "
        "action. The Independent International Commission on Kosovo later concluded that the intervention "
        "was illegal but legitimate.",
    ),
    (
        "p",
        "In his Millennium Report of 2000, Secretary-General Kofi Annan asked how the world should respond "
        "to a Rwanda or a Srebrenica if humanitarian intervention was indeed an unacceptable assault on "
        "sovereignty.",
    ),
    ("heading", "The responsibility to protect"),
    (
        "p",
        "An answer came from the International Commission on Intervention and State Sovereignty, which was "
        "set up by the government of Canada and co-chaired by Gareth Evans and Mohamed Sahnoun. Its "
        "report, published in December 2001, was called The Responsibility to Protect. It argued that "
        "sovereignty is a responsibility as well as a right: a state is responsible for protecting its own "
        "people, and when it is unable or unwilling to do so, that responsibility passes to the "
        "international community.",
    ),
    (
        "p",
        "At the 2005 World Summit, heads of state and government endorsed the responsibility to protect in "
        "paragraphs 138 and 139 of the Outcome Document. The Summit limited it to four crimes: genocide, "
        "war crimes, ethnic cleansing and crimes against humanity. It also made clear that collective "
        "military action should be taken through the Security Council.",
    ),
    (
        "p",
        "In a report of 2009, Secretary-General Ban Ki-moon set out the responsibility to protect as three "
        "pillars, summarised in the table below.",
    ),
    ("table", "R2P_PILLARS"),
    ("heading", "Libya and after"),
    (
        "p",
        "On 17 March 2011 the Security Council adopted Resolution 1973 on Libya. It authorised member "
        "states to take all necessary measures to protect civilians and established a no-fly zone. The "
        "resolution passed with ten votes in favour and five abstentions, from Brazil, China, Germany, "
        "India and Russia. A NATO-led air campaign followed, and by October 2011 the government of Muammar "
        "Gaddafi had fallen.",
    ),
    (
        "p",
        "Critics argued that a mandate to protect civilians had been stretched into regime change. Brazil "
        "responded later in 2011 with the idea of responsibility while protecting, which asked states that "
        "use force under a Security Council mandate to be accountable for how they use it. The dispute over "
        "Libya is often cited as one reason why the Council failed to agree on action in Syria, where "
        "Russia and China vetoed several draft resolutions.",
    ),
    (
        "p",
        "Supporters see the responsibility to protect as a lasting change in what states owe their "
        "citizens. Critics fear that it can serve as a pretext for powerful states to intervene for their "
        "own interests, and that its selective use undermines its authority.",
    ),
]
R2P_PILLARS: list[tuple[str, str]] = [
    ("Pillar", "What it says"),
    (
        "Pillar one",
        "Every state has the responsibility to protect its population from the four crimes.",
    ),
    (
        "Pillar two",
        "The international community should encourage and help states to meet this responsibility.",
    ),
    (
        "Pillar three",
        "When a state manifestly fails to protect its population, the international community must "
        "be prepared to take timely and decisive collective action.",
    ),
]


def write_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = R2P_TITLE
    document.core_properties.author = AUTHOR
    document.core_properties.created = FIXED_DATE
    document.core_properties.modified = FIXED_DATE
    document.add_heading(R2P_TITLE, level=0)
    for kind, content in R2P_BLOCKS:
        if kind == "heading":
            document.add_heading(content, level=1)
        elif kind == "table":
            table = document.add_table(rows=len(R2P_PILLARS), cols=2)
            table.style = "Table Grid"
            for row, cells in zip(table.rows, R2P_PILLARS, strict=True):
                for cell, text in zip(row.cells, cells, strict=True):
                    cell.text = text
        else:
            document.add_paragraph(content)
    scratch = BytesIO()
    document.save(scratch)
    # A .docx is a zip whose entries carry the time of writing: fix it, so the bytes are reproducible.
    with zipfile.ZipFile(scratch) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            entry = zipfile.ZipInfo(item.filename, date_time=FIXED_DATE.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(item.filename))


def main() -> None:
    write_pdf(HERE / "climate-and-security.pdf")
    write_docx(HERE / "humanitarian-intervention.docx")


if __name__ == "__main__":
    main()
