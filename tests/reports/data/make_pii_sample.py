"""Writes pii_sample.jsonl: fictional case-record snippets with gold personal-data spans.

Written by hand (not generated from the recognizers' rules) in the styles records come
in: templates with headers, prose, terse case notes, supervision and plan tables,
system exports. Every person, number and address is invented; NHS numbers have valid
check digits, phone numbers are in Ofcom's drama ranges, emails use example domains.
Dates of visits, schools, towns and agencies are deliberately left unlabelled: they are
not what the pseudonymiser must remove, and they test its precision.

Markup: [[LABEL:text]]; labels NAME, DOB, ADDRESS, POSTCODE, PHONE, EMAIL, NHS, NINO.
A title (Mr, Mrs, Dr, PC) is not part of a name; a town is not part of an address.

    python tests/reports/data/make_pii_sample.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"\[\[(NAME|DOB|ADDRESS|POSTCODE|PHONE|EMAIL|NHS|NINO):(.+?)\]\]")

SNIPPETS = [
    # 1 assessment header
    "Child and Family Assessment\nChild: [[NAME:Kai MITCHELL]] (8)  DOB: [[DOB:12/03/2016]]\n"
    "NHS No: [[NHS:445 807 3028]]\nAddress: [[ADDRESS:14 Elm Road]], Leeds [[POSTCODE:LS6 2AB]]\n"
    "Mother: [[NAME:Sana Mitchell]]  Father: [[NAME:Dean Mitchell]] (not living at home)\n"
    "Allocated worker: [[NAME:Hannah Price]]",
    # 2 visit prose
    "Unannounced visit. [[NAME:Kai]] was seen in his bedroom playing Minecraft with his brother "
    "[[NAME:Leo]] (6). Mum ([[NAME:Sana]]) said the boys had been up late. [[NAME:Kai]] told me "
    "he misses his dad and wants to see him at weekends. I observed the kitchen was clean.",
    # 3 cp enquiry with police
    "Strategy discussion held on 04/02/2025 with PC [[NAME:Hughes]] and Dr [[NAME:Anjali Patel]] "
    "(paediatrician). [[NAME:Amara Okafor]] (11) disclosed that her stepdad [[NAME:Tony Grant]] "
    "hit her with a belt. [[NAME:Amara]] was seen alone at Riverside Primary.",
    # 4 contact details
    "Mum's mobile: [[PHONE:07700 900461]]. Dad can be reached on [[PHONE:0113 496 0718]] or by "
    "email at [[EMAIL:e.okafor78@example.com]]. The family's GP is Moortown Surgery.",
    # 5 NI and NHS
    "Mother [[NAME:Zofia Nowak]], NI number [[NINO:JT 48 29 17 B]], is in receipt of Universal "
    "Credit. Baby [[NAME:Oliwia]]'s NHS number is [[NHS:773 681 9300]]; born [[DOB:2 January "
    "2025]] at St James's.",
    # 6 supervision
    "Case Supervision Record\nSupervisor: [[NAME:Esi Osei]]. Supervisee: [[NAME:Darren Marsh]].\n"
    "Last supervision 10/04/2025. [[NAME:Darren]] reflected that he feels stuck with the "
    "[[NAME:Rahman]] family. I challenged why the PLO letter has not been sent.",
    # 7 plan table
    "Child in Need Plan for [[NAME:Tyler-Jay Smith]] (DOB [[DOB:23.09.2013]])\n"
    "| Action | Who | By when |\n| Refer to CAMHS | [[NAME:Hannah Price]] (SW) | 30/05/2025 |\n"
    "| Attendance meeting | Mrs [[NAME:Khan]] (attendance officer) | 14/06/2025 |\n"
    "| Parenting course | Mum ([[NAME:Kerry Smith]]) | 31/07/2025 |",
    # 8 terse note, lower-case style
    "HV [[NAME:Jo Bell]] rang - [[NAME:Daisy-Mae]] weighed today, dropped a centile. mum "
    "[[NAME:Chelsea Watson]] not engaging. new address [[ADDRESS:Flat 3, 22 Hill Street]], "
    "Bradford [[POSTCODE:BD7 1QX]].",
    # 9 oversight
    "Management oversight: I have read the assessment for [[NAME:Niamh]] and [[NAME:Connor "
    "McDonald]]. Decision: step down to Early Help. Review 01/09/2025. [[NAME:Gareth Lloyd]], "
    "Team Manager.",
    # 10 ICPC / siblings
    "The ICPC on 18/03/2025 agreed that [[NAME:Ruby]] (4), [[NAME:Freddie]] (2) and baby "
    "[[NAME:Alfie]] should be subject to a child protection plan under the category of neglect. "
    "IRO [[NAME:Ruth Adams]] chaired.",
    # 11 relation with comma apposition
    "Her mother, [[NAME:Aisha Rahman]], said that [[NAME:Hafsa]] has been going missing after "
    "school. Maternal grandmother [[NAME:Bibi Rahman]] lives at [[ADDRESS:7 Oak Close]], "
    "Rochdale [[POSTCODE:OL11 3EF]].",
    # 12 names that are also words
    "[[NAME:Grace]] said she likes her new school and her teacher Mr [[NAME:Will Turner]]. "
    "[[NAME:Grace]]'s dad [[NAME:Mark]] attended the core group.",
    # 13 export style
    "CASE NOTE | 12/05/2025 | Author: [[NAME:Priya Sharma]] | Subject: [[NAME:Jordan CLARKE]] "
    "(15) | Type: Visit\n[[NAME:Jordan]] not in. Spoke to his nan [[NAME:Maureen Clarke]] on "
    "the doorstep.",
    # 14 DOB in prose
    "[[NAME:Leon Campbell]] was born on [[DOB:14 July 2009]] and is now in Year 11 at Parkside "
    "Academy. His sister [[NAME:Shanice]] is 19 and lives independently.",
    # 15 email + phone of professional
    "School DSL [[NAME:Fiona Reid]] ([[EMAIL:f.reid@parkside-academy.example.org]], "
    "[[PHONE:01632 960214]]) shared the attendance figures: 78% this term.",
    # 16 NI without spaces and NHS with dashes
    "Father: [[NAME:Bilal Mahmood]], NINO [[NINO:NH339280D]], NHS [[NHS:764-262-1299]].",
    # 17 visit with children's views and names in quotes
    "[[NAME:Ella]] (9) drew her three houses. In her house of worries she drew [[NAME:Jason]], "
    "mum's boyfriend, shouting. [[NAME:Ella]] said \"I don't like it when [[NAME:Jason]] comes "
    "round\".",
    # 18 minimal record with no PII
    "Visit completed. Child seen. Home conditions adequate. Next visit in 10 working days. "
    "Discussed at Tuesday's core group; CAMHS referral accepted.",
    # 19 worker names in sign-off
    "Written by: [[NAME:Tom Fletcher]], Social Worker, Assessment Team B\nAuthorised by: "
    "[[NAME:Julie Barnes]], Team Manager, 03/06/2025",
    # 20 address with named flat block
    "Family moved to [[ADDRESS:12 Canal Wharf]], Wakefield [[POSTCODE:WF1 5RT]] in March. "
    "Landlord is Together Housing.",
    # 21 unborn
    "Pre-birth assessment: [[NAME:Megan Hall]] (19) is 28 weeks pregnant, EDD [[DOB:14/06/2025]]. "
    "Father of the baby [[NAME:Ryan Booth]] is known to probation.",
    # 22 names with apostrophes and accents
    "[[NAME:Chloe O'Connor]] and her partner [[NAME:José Ferreira]] attended the meeting with "
    "[[NAME:Zoë]] (3).",
    # 23 phone in international format
    "Aunt [[NAME:Nasra Abdi]] called from [[PHONE:+44 7700 900877]] offering to care for "
    "[[NAME:Hodan]] and [[NAME:Yusuf]].",
    # 24 list of attendees
    "Present: [[NAME:Sarah Kaur]] (SW), [[NAME:Dev Kaur]] (dad), [[NAME:Lisa Green]] (school "
    "nurse) and [[NAME:Imran]] (15).",
    # 25 free text with possessives
    "[[NAME:Harvey]]'s behaviour at home has improved. [[NAME:Harvey]]'s mum [[NAME:Stacey]] "
    "says he now goes to bed at 8pm.",
    # 26 NHS without spaces in export
    "child_name=[[NAME:Maisie Holt]]; nhs_number=[[NHS:6220033221]]; dob=[[DOB:2018-11-30]]; "
    "postcode=[[POSTCODE:HX1 2LP]]",
    # 27 capitalised surname header style with forename after
    "SUBJECT: [[NAME:AHMED, Yasmin]] (DOB [[DOB:05/05/2012]])\n[[NAME:Yasmin]] was seen at school.",
    # 28 worker and manager in prose
    "I ([[NAME:Kate Morris]], SW) discussed the case with my manager [[NAME:Paul Dawson]], who "
    "agreed a strategy discussion is needed.",
    # 29 sibling group with ages
    "Children in household: [[NAME:Mia]] (12), [[NAME:Noah]] (10), [[NAME:Isla]] (7) "
    "[[NAME:Patel]].",
    # 30 text speak style
    "tc w/ mum [[NAME:Jade]] - says [[NAME:Lily]] ok, refused hv visit again. will try "
    "again thurs.",
    # 31 police and health professionals
    "DC [[NAME:Sam Iqbal]] confirmed no further action. Health visitor [[NAME:Anna Lewis]] has "
    "concerns about [[NAME:Theo]]'s weight.",
    # 32 distractors only
    "Reviewed the Child Protection Plan at the Review Child Protection Conference. Leeds "
    "Children's Services, NSPCC and CGL attended. The Freedom Programme starts on Monday.",
    # 33 Christian name also place
    "[[NAME:Paris]] (14) said she wants to live with her dad in Manchester.",
    # 34 name only once, sentence initial
    "[[NAME:Oskar]] presented as withdrawn and avoided eye contact.",
    # 35 father's contact + address
    "Dad's address: [[ADDRESS:58 Victoria Avenue]], Halifax [[POSTCODE:HX3 0AB]]. Tel: "
    "[[PHONE:01422 496 302]].",
    # 36 auditor style comments
    "Auditor comment: good use of the child's words. Moderated by [[NAME:Helen Short]] "
    "(Principal Social Worker).",
    # 37 multiple NHS numbers
    "NHS numbers: [[NAME:Ava]] [[NHS:638 323 6407]], [[NAME:Lucas]] [[NHS:422 415 4994]].",
    # 38 name in lower case (sloppy)
    "saw [[NAME:kai]] at school, [[NAME:kai]] said things are better at home.",
    # 39 email of parent
    "Mum asked for the minutes to be sent to [[EMAIL:sana_m@example.net]].",
    # 40 relation words before name with parentheses and age
    "Dad ([[NAME:Emeka]]) and his partner ([[NAME:Tolu]]) were present; [[NAME:Chidi]] (5) "
    "was asleep.",
]


# Written after the recognizers were tuned on SNIPPETS, and scored once: an estimate of
# recall on text the rules were not fitted to (pii_holdout.jsonl).
HOLDOUT = [
    "Initial contact: referral from Mrs [[NAME:Adeyemi]]'s GP surgery about [[NAME:Tobi]] "
    "(4) and [[NAME:Femi Adeyemi]] (9). Family address [[ADDRESS:3 Laburnum Grove]], "
    "[[POSTCODE:S6 4TR]].",
    "Spoke with [[NAME:Callum]]'s father [[NAME:Stephen Rowe]] on [[PHONE:07700 900318]]; he "
    "agreed to attend the meeting on Thursday.",
    "YP [[NAME:Destiny Oyelaran]], DOB [[DOB:2 Feb 2010]], NHS [[NHS:651 454 7524]], is "
    "missing from her placement again.",
    "CHILD NAME: [[NAME:LEWIS, Harry-James]]\nCARER: [[NAME:Denise Lewis]] (maternal "
    "grandmother)",
    "[[NAME:Bogdan]] and [[NAME:Ioana Popa]] attended with an interpreter. [[NAME:Ioana]] "
    "said [[NAME:Sofia]] sleeps in her room.",
    "The ICPC was chaired by [[NAME:Margaret Fenton]]. Parents' solicitor [[NAME:Raj "
    "Malhotra]] was present.",
    "email from school ([[EMAIL:office@greenbank-primary.example.sch.uk]]): [[NAME:Evie]] "
    "absent 4 days this week.",
    "Mother's NI number [[NINO:SK 55 21 09 A]] provided for the benefits check.",
    "Supervision: [[NAME:Olu]] discussed the [[NAME:Kowalczyk]] case; manager [[NAME:Tina "
    "Rees]] asked for a strategy meeting.",
    "[[NAME:Alesha]] says her brother [[NAME:Marcus]] hits her when mum [[NAME:Jolene]] is at "
    "work.",
    "Visited [[NAME:Mohammed]] at [[ADDRESS:Flat 12, 40 Station Road]], Luton "
    "[[POSTCODE:LU1 3HG]]. Sister [[NAME:Zainab]] (16) answered the door.",
    "Ring [[NAME:Shauna]] back on [[PHONE:0117 496 0555]] re contact with [[NAME:Kayden]].",
    "[[NAME:Hollie-Mae Jackson]] (b. [[DOB:11/11/2019]]) was seen with her nursery key worker "
    "[[NAME:Abi Turner]].",
    "Dad [[NAME:Gary]] refused entry; PC [[NAME:Wilkinson]] attended at 21:40.",
    "Baby [[NAME:Nevaeh]] was weighed by health visitor [[NAME:Sue Patterson]]: 7.2kg.",
]


def parse(marked: str) -> tuple[str, list[dict[str, object]]]:
    out, spans, last = [], [], 0
    pos = 0
    for m in MARK.finditer(marked):
        out.append(marked[last:m.start()])
        pos += m.start() - last
        value = m.group(2)
        spans.append({"start": pos, "end": pos + len(value), "label": m.group(1),
                      "text": value})
        out.append(value)
        pos += len(value)
        last = m.end()
    out.append(marked[last:])
    return "".join(out), spans


def write(name: str, prefix: str, snippets: list[str]) -> None:
    with (HERE / name).open("w", encoding="utf-8") as fh:
        for i, marked in enumerate(snippets, 1):
            text, spans = parse(marked)
            for s in spans:
                assert text[s["start"]:s["end"]] == s["text"]  # type: ignore[misc]
            fh.write(json.dumps({"id": f"{prefix}-{i:02d}", "text": text, "spans": spans},
                                ensure_ascii=False) + "\n")


def main() -> None:
    write("pii_sample.jsonl", "pii", SNIPPETS)
    write("pii_holdout.jsonl", "hold", HOLDOUT)


if __name__ == "__main__":
    main()
