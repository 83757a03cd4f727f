"""Every marker of the spec, one parametrised table each: (doc_type, text, expected_present).

The snippets are written for these tests (fictional names, invented details). Each table
has genuine positives in several recording styles (prose, headed templates, form fields,
lists) and the negatives the spec's labelling conventions name: negated, placeholder or
empty heading, intended but not done, someone else's report, assertion without
substance, and near misses. Rows the current rules get wrong are kept as strict xfails
(`gap(...)`), so a fix to the rules turns them into failures that ask to be promoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from screener import Screener, load_rubric


@dataclass(frozen=True)
class Gap:
    """A row the current rules get wrong: the spec's answer, run as a strict xfail."""

    doc_type: str
    text: str
    expected: bool
    reason: str


Row = tuple[str, str, bool] | Gap


def gap(doc_type: str, text: str, expected: bool, reason: str) -> Gap:
    return Gap(doc_type, text, expected, reason)


CASES: dict[str, list[Row]] = {
    "child_seen": [
        ("visit", "I saw Amara at home after school; she was still in her uniform.", True),
        ("assessment", "Tyler (6) was seen at school on 12/03 in the nurture room.", True),
        ("cp_enquiry", "Child seen: Yes. Seen at nursery by the SW on 4th June.", True),
        ("visit", "When I arrived Mia was playing with her dolls on the lounge floor.", True),
        ("visit", "Jayden took me upstairs to show me his new bunk bed.", True),
        ("cp_enquiry", "Both children were seen and spoken to at school on Monday.", True),
        ("assessment", "I sat with Noah while he built a tower of bricks in the playroom.", True),
        gap("assessment", "I said hello to Leo at the TAF meeting in school.", True,
            "the spec counts 'said hello at the TAF meeting' as seen; no cue for it"),
        ("visit", "Kai was not seen on this visit as he was staying at his dad's.", False),
        ("visit", "During a video call Kai was sitting on his bed with his headphones on.",
         False),
        ("cp_enquiry", "Ruby is to be seen at school by the SW next week.", False),
        ("assessment", "Lily was seen by the GP on Monday for her asthma review.", False),
        ("cp_enquiry", "Child seen: No - the family did not answer the door.", False),
        ("visit", "Mum said that Kai was playing out on his bike with friends.", False),
        ("assessment", "Child seen:\nN/A\nParental views:\nMum is worried about money.", False),
        ("assessment", "I phoned Keira at her nan's and we talked about her exams.", False),
        ("assessment", "Children seen and spoken to: Y", True),
        ("visit", "I met Kai at the contact centre and watched him play with his dad.", True),
        ("cp_enquiry", "Unborn baby: mum is 30 weeks pregnant and the baby is due on 3 June.",
         False),
        ("visit", "Home visit completed; Kai was at school so only mum was present.", False),
        ("visit", "Mum would not let me see the children and said they were asleep.", False),
        ("cp_enquiry", "Children seen:\n08/10 at home after school, both of them with grandad in "
                       "the room. I could not see them separately and will see Ali alone at "
                       "school.", True),
        ("visit", "Child seen:\nNo - Zain was at his dad's for the weekend.", False),
        ("assessment", "- Seen x3 at home and once at college, always with mum nearby.", True),
        ("visit", "16:20 Saw Oluwaseun at the contact centre with his foster carer.", True),
        ("visit", "Observations: Daisy was wearing a clean school uniform and made good eye "
                  "contact.", True),
        ("cp_enquiry", "Child seen: Unborn - not applicable.", False),
        ("visit", "Child seen: No - out with friends. Seen alone: No.", False),
        ("visit", "Child seen:\nSpoke to Zain on the phone as he was at his dad's.", False),
        ("assessment", "Who was seen:\nVisited at 4pm but nobody would answer the door.", False),
        gap("visit", "I spoke to mum at the door and she said Maisie was asleep upstairs.", False,
            "'she said' is not an adult report, so a doorstep account reads as the child seen"),
    ],
    "seen_alone": [
        ("visit", "I saw Kai alone in his bedroom and we talked about school.", True),
        ("cp_enquiry", "Seen alone: Yes, in the school library.", True),
        ("visit", "I spoke with Maya on her own at school; her teaching assistant stayed to "
                  "help with signing.", True),
        ("cp_enquiry", "Jordan was seen alone at school, with PC Evans present for the "
                       "interview.", True),
        ("visit", "I spent 20 minutes with Ellie away from her parents in the garden.", True),
        ("visit", "Ava and I talked one to one in the car on the way back from contact.", True),
        ("visit", "Kai was not seen alone as dad stayed in the room throughout.", False),
        ("cp_enquiry", "Not seen alone as dad stayed.", False),
        ("visit", "I spoke to Kai on his own in the kitchen but mum remained in the room "
                  "throughout.", False),
        ("visit", "Kai is to be seen alone at the next visit.", False),
        ("visit", "I spoke to Kai on his own by phone as he was at his nan's.", False),
        ("cp_enquiry", "Seen alone: No (baby, 4 months).", False),
        ("visit", "Seen alone: N/A", False),
        ("visit", "Kai was seen with his mum and his sister in the living room.", False),
        ("cp_enquiry", "Kai was spoken to without his parents present at school, with his "
                       "teacher there.", True),
        ("visit", "I saw Tia privately in her room while mum waited downstairs.", True),
        ("visit", "Mum stayed in the room throughout, so Kai was not seen alone.", False),
        gap("cp_enquiry", "Ruby was at school. I spoke to mum alone about the concerns.", False,
            "'spoke to mum alone' counts though the child was not the one seen alone"),
    ],
    "child_views": [
        ("visit", 'Kai told me "I don\'t like it when dad shouts at mum."', True),
        ("assessment", "Using the three houses tool, Ruby put her brother's shouting in her "
                       "house of worries.", True),
        ("cp_enquiry", "Over the phone Leah said she feels scared when mum's boyfriend "
                       "comes round.", True),
        ("visit", "Using PECS, Oliver chose the picture of his nan's house when asked where he "
                  "wants to stay at weekends.", True),
        ("cin_plan", "Child's views: Zara says she wants to keep going to football club and "
                     "would like to see her dad every weekend.", True),
        ("cin_plan", "Child's views: Zara says she wants to keep going to football club.", True),
        ("assessment", "Mason (9) was clear that he wants to stay living with his "
                       "grandparents.", True),
        ("cp_plan", "Ava said she loves her baby brother and likes helping mum bath him.", True),
        ("visit", "Jamal shouted through his bedroom door that he hates social workers.", True),
        ("cin_plan", 'Child\'s voice: "I want mum to stop crying" (Tia, 8).', True),
        ("visit", "Mum says Kai wants to live with her full time.", False),
        ("cp_enquiry", "Dad told me that Poppy said she was happy at school.", False),
        ("assessment", "According to mum, Kai said he was happy at his new school.", False),
        ("cp_plan", "Child's views: TBC", False),
        ("visit", "Kai's views are to be gathered at the next visit.", False),
        ("cin_plan", "Child's views:\nsee previous plan\nOutcomes:\nTo be agreed.", False),
        ("assessment", "Noah is 14 months old and too young to give his views.", False),
        ("cp_enquiry", "Tia (7) drew a picture of her family and put dad outside the house.",
         True),
        ("visit", "Kai scored his happiness at home as 8 out of 10 on the feelings "
                  "thermometer.", True),
        ("visit", "With Mrs Ali (SENCo) Leo completed an 'all about me' worksheet saying he "
                  "likes trains and hates loud noises.", True),
        ("assessment", "Dad explained that Kai wants to come and live with him.", False),
        ("assessment", "Kai's views will be sought through direct work at school.", False),
        ("visit", "Jordan answered the door in his school uniform.", False),
        ("visit", "Amir has missed six days of school this half term.", False),
        ("visit", "In the car Amir said he misses his dad and wants to see him at weekends.", True),
        gap("visit", "At 5 months old, Isla feels safe with mum and settles quickly in her arms.",
            False, "an infant's behaviour read by the worker is observations, not views"),
    ],
    "parenting_capacity": [
        ("assessment", "Mum is able to meet Kai's basic care needs, as the home is clean and "
                       "he is always fed, but she struggles to notice his emotional needs "
                       "because of her own low mood.", True),
        ("assessment", "Strengths: mum keeps a warm, consistent routine, so Ruby is clean, fed "
                       "and in school every day. Gaps: mum does not yet recognise the risk her "
                       "ex-partner poses, which means Ruby is exposed to his visits.", True),
        ("assessment", "Mum's capacity to keep Tia safe is limited because she still lets her "
                       "partner stay over.", True),
        ("assessment", "Parenting capacity: Dad's strengths are his warmth and a consistent "
                       "bedtime routine. The gap is his limited insight into how his drinking "
                       "affects Ellie, which means she is often left to put herself to bed.",
         True),
        ("assessment", "Ms Patel is unable to protect the children from her partner, as shown "
                       "by the three police call-outs since May.", True),
        ("assessment", "The carers consistently meet Leo's health and educational needs: he "
                       "has been to every dental and clinic appointment and his reading age "
                       "has risen by a year.", True),
        ("assessment", "Dad is not able to prioritise Jess over his new relationship, because "
                       "he has missed four of the last six contact sessions.", True),
        ("assessment", "Mum is a loving parent who is trying her best.", False),
        ("assessment", "Parenting capacity: TBC", False),
        ("assessment", "Dad works as a delivery driver and lives with his partner in Leeds.",
         False),
        ("assessment", "Mum's strengths and the gaps in her parenting are to be explored at "
                       "the next visit.", False),
        gap("assessment", "Mum's parenting capacity was not assessed during this assessment.",
            False, "capacity_phrase is not blocked by negation"),
        gap("assessment", "A parenting assessment is needed to decide whether mum can meet "
                          "Kai's needs.", False,
            "intention list has no 'is needed to'; a planned assessment counts as evaluation"),
    ],
    "multi_agency": [
        ("assessment", "School (Mrs Green, DSL) reported that Kai's attendance has dropped to "
                       "78% this term and he often arrives hungry.", True),
        ("cp_enquiry", "The health visitor told me that Ava's weight has fallen from the 50th "
                       "to the 9th centile since March.", True),
        ("cp_enquiry", "PC Jones confirmed that police attended the address twice in June "
                       "after reports of shouting.", True),
        ("assessment", "Information from CAMHS is that Leah has been on the waiting list since "
                       "January and was assessed as having low mood.", True),
        ("assessment", "GP: mum has been prescribed sertraline since 2022 and attends her "
                       "medication reviews regularly.", True),
        ("cp_enquiry", "According to the school nurse, Jack has missed three hearing "
                       "appointments this year.", True),
        ("assessment", "Mrs Khan, the head teacher, said Tia has come in wearing the same "
                       "clothes all week.", True),
        ("assessment", "Dr Shah (GP) confirmed that Leo has missed his last two "
                       "immunisations.", True),
        ("cp_enquiry", "Police: not known.", False),
        ("assessment", "School were contacted but have not responded.", False),
        ("cp_enquiry", "Strategy discussion held with police, health and education.", False),
        ("assessment", "School to be contacted for an update on attendance.", False),
        ("cp_enquiry", "Police checks: not known. Health checks: requested.", False),
        ("assessment", "Checks requested from health and education.", False),
        ("assessment", "Maternal grandmother reported that mum has been drinking again.", False),
        ("cp_enquiry", "A neighbour said she often hears the children crying late at night.",
         False),
        ("assessment", "The family is known to CAMHS and the school nurse.", False),
        ("cp_enquiry", "Multi-agency checks:\nN/A\nHistory:\nNone known.", False),
        ("assessment", "A referral will be made to the health visitor to request her views on "
                       "Isla's development.", False),
    ],
    "history": [
        ("assessment", "Mum was herself in care as a child, and this history means she finds it "
                       "hard to trust professionals, which affects how openly she works with us "
                       "about Kai.", True),
        ("cp_enquiry", "The family were on a CP plan in 2019 for neglect; the same pattern of "
                       "poor attendance and missed health appointments is repeating now, which "
                       "suggests the earlier changes were not sustained.", True),
        ("cp_enquiry", "This is the fourth referral in two years about domestic abuse, so the "
                       "cumulative impact on Ellie of living with repeated incidents is "
                       "significant.", True),
        ("assessment", "Given her history of post-natal depression after her first child, "
                       "there is a real risk that mum's mood drops again once the baby "
                       "arrives.", True),
        ("assessment", "Dad's own childhood was marked by violence, which may explain why he "
                       "struggles to see the impact of shouting on Jayden now.", True),
        ("cp_enquiry", "Not known to police. No previous concerns.", False),
        ("assessment", "History: N/A", False),
        ("cp_enquiry", "Family history to be explored at the next visit.", False),
        ("assessment", "There is no history of domestic abuse in this family.", False),
        ("assessment", "Mum had Kai in 2015 when she was living in Bristol.", False),
        ("cp_enquiry", "Previous involvement: CIN plan in 2020, closed 2021.", False),
        ("cp_enquiry", "Chronology:\nTBC\nOutcome:\nNFA.", False),
        ("assessment", "Mum's older son was removed in 2016 because of neglect; the same "
                       "concerns about dirty clothes and missed meals are now seen with Tia, "
                       "which suggests the risk has not changed.", True),
        ("assessment", "History of domestic abuse.", False),
        ("cp_enquiry", "Previous referrals: 2018 (DA, NFA), 2021 (neglect, NFA).", False),
    ],
    "analysis": [
        ("assessment", "In my view Kai is not safe at home at the moment because mum's partner "
                       "keeps visiting despite the safety plan, which means Kai is living with "
                       "the fear of further violence.", True),
        ("visit", "Analysis: Ella's attendance has improved to 96% and she told me she feels "
                  "calmer at home. This suggests the parenting work is making a real difference "
                  "because mum now keeps a consistent bedtime routine, so Ella arrives at "
                  "school rested.", True),
        gap("visit", "I am worried that Jack's weight loss is a sign of neglect, as nursery say "
                     "he is often hungry on Mondays after weekends at dad's.", True,
            "'as nursery say ...' is not in the reasoning pattern"),
        ("visit", "My main worry is that Kai is becoming isolated because he no longer goes to "
                  "football and stays in his room.", True),
        ("assessment", "The key issue for Amir is the lack of routine, because without regular "
                       "meals and bedtimes he cannot concentrate at school.", True),
        ("visit", "What life is like for Rosie: she spends most evenings alone in her room as "
                  "mum sleeps after her night shifts, which leaves her isolated.", True),
        ("assessment", "Risk: medium-high.", False),
        ("visit", "Analysis: As above.", False),
        ("assessment", "Recommend CiN plan.", False),
        ("assessment", "Risk is assessed as medium.", False),
        ("visit", "Dad believes the impact on Kai has been minimal because he was asleep "
                  "during the arguments.", False),
        ("assessment", "Analysis:\nOverall the case should remain open.", False),
        ("visit", "I think the visit went well.", False),
        ("assessment", "Analysis:\nTBC\nRecommendation:\nCIN plan.", False),
        ("assessment", "Ella is likely to keep missing school because mum's anxiety makes "
                       "mornings very hard, which means Ella is falling behind her peers.", True),
        ("assessment", "Analysis: Kai is 6. He lives with mum and his sister. He attends Oak "
                       "Primary. Mum works part time.", False),
        ("visit", "The school feel Kai is doing well because his behaviour has settled.", False),
    ],
    "risk_analysis": [
        ("cp_enquiry", "Kai is at risk of significant harm because he has been present during "
                       "three incidents of violence between mum and her partner, and at age 3 "
                       "he cannot take himself out of the room.", True),
        ("cp_enquiry", "The likely harm to Mia is emotional: she is frightened of going home "
                       "and her self-harm has increased since dad returned, which suggests home "
                       "is not currently safe for her.", True),
        ("cp_enquiry", "Protective factors are grandma's daily involvement and Leo's close bond "
                       "with his teacher, which means someone outside the home would notice if "
                       "things got worse.", True),
        ("cp_enquiry", "I am worried that Isla is unsafe in dad's care as he has fallen asleep "
                       "twice while in sole charge of her after drinking.", True),
        ("cp_enquiry", "Risk level: medium.", False),
        ("cp_enquiry", "Risk: high. ICPC to be convened.", False),
        ("cp_enquiry", "Mum feels Kai is safe because her ex-partner has moved away.", False),
        ("cp_enquiry", "The allegation was retracted and the risk is low.", False),
        ("cp_enquiry", "Risk analysis:\nN/A\nOutcome:\nNFA.", False),
        ("cp_enquiry", "Dad said Ruby is safe with him as he has stopped drinking.", False),
        ("cp_enquiry", "There is a real risk that Leo will be hurt again as dad has no "
                       "explanation for the fracture and will not keep to the safety plan.",
         True),
        gap("cp_enquiry", "The risk of harm is low because the injury was explained, it fits a "
                          "fall at nursery and there is no other concern.", True,
            "'risk of harm is low because ...' matches no risk cue"),
    ],
    "outcome_decision": [
        ("cp_enquiry", "Outcome: initial child protection conference, because the injury to "
                       "Ava's arm is unexplained and mum has not kept to the safety plan.",
         True),
        ("cp_enquiry", "Decision: progress to ICPC as the threshold for significant harm is "
                       "met.", True),
        ("cp_enquiry", "The enquiry concluded that the concerns were not substantiated; Kai "
                       "will be supported under a child in need plan because home conditions "
                       "have improved.", True),
        ("cp_enquiry", "It was agreed to close the case with no further action, as the police "
                       "found the bruise was accidental.", True),
        ("cp_enquiry", "Recommendation: step down to early help, as the family have asked for "
                       "support with routines and there are no safeguarding concerns.", True),
        ("cp_enquiry", "Outcome: TBC", False),
        ("cp_enquiry", "Outcome: awaiting the team manager's decision on whether to hold an "
                       "ICPC.", False),
        ("cp_enquiry", "An ICPC may be considered if concerns continue.", False),
        ("cp_enquiry", "Dad asked whether the case would be closed soon.", False),
        ("cp_enquiry", "Decision: strategy discussion held on 3 March.", False),
        ("cp_enquiry", "Outcome of s47:\n-\nSW:\nJo Hart", False),
        ("cp_enquiry", "Following the strategy discussion the enquiry will progress to an "
                       "ICPC because the bruising is unexplained.", True),
        ("cp_enquiry", "Manager's decision: pending.", False),
        gap("cp_enquiry", "Outcome: NFA.", False,
            "a bare outcome with no rationale counts; the cues do not ask for a reason"),
    ],
    "purpose": [
        ("visit", "Purpose of visit: to check how Kai is getting on with the bedtime routine "
                  "agreed at the last core group.", True),
        ("visit", "The purpose of the visit was to complete direct work with Ella about her "
                  "worries, as set out in her CIN plan.", True),
        ("visit", "I visited to see how Jack was settling back at home, in line with his child "
                  "protection plan.", True),
        ("visit", "Statutory visit as agreed in the CP plan; focus on outcome 2 (Leo attends "
                  "nursery every day).", True),
        ("visit", "Reason for visit: home visit.", False),
        ("visit", "Unannounced visit.", False),
        ("visit", "Purpose of visit:\nObservations:\nThe flat was tidy.", False),
        ("visit", "Purpose: statutory visit.", False),
        ("visit", "Purpose of visit: N/A", False),
        ("visit", "Purpose of visit: to see Kai.", False),
        ("visit", "Mum asked what the visit was about.", False),
        ("visit", "Focus of visit: to review progress on outcome 1 of the CP plan (Leo's "
                  "sleep routine).", True),
        ("visit", "Reason for visit: statutory.", False),
    ],
    "observations": [
        ("visit", "Kai looked clean and well dressed and was chatty throughout.", True),
        ("visit", "The kitchen was clean, there was fresh food in the fridge and the "
                  "children's beds had clean bedding.", True),
        ("visit", "I observed mum soothe baby Isla when she cried; Isla settled quickly and "
                  "made good eye contact with her.", True),
        ("visit", "Observations: Ruby was quiet at first but relaxed once we started drawing, "
                  "and she went to mum for comfort when the dog barked.", True),
        ("visit", "There was a strong smell of cannabis in the hallway and dirty nappies on "
                  "the landing.", True),
        ("visit", "Mum said the house had been in a mess all week.", False),
        ("visit", "I spoke with dad on the doorstep; he told me the boys had gone to bed.",
         False),
        ("visit", "During a video call Kai appeared happy and relaxed.", False),
        ("visit", "Observations: N/A", False),
        ("visit", "Home conditions to be checked at the next visit.", False),
        ("visit", "Leo's bedroom had a bare mattress on the floor and no bedding.", True),
        ("visit", "Mum and Kai were laughing together while they made tea, and mum praised him "
                  "when he helped.", True),
        ("visit", "Observations: Kai said he had a good week at school.", False),
        gap("visit", "I saw Kai at home after school.", False,
            "'I saw <child>' (seeing the child) counts as an observation of the child"),
        gap("visit", "The home was not visited as we met at the library.", False,
            "home_conditions is not blocked by negation"),
        gap("visit", "Kai told me he was tired because he stays up late gaming.", False,
            "what the child said in conversation reads as observed presentation"),
    ],
    "outcomes": [
        ("cin_plan", "Outcome 1: Sharon is living in a home free from domestic violence.", True),
        ("cp_plan", "1. Kai attends school every day and his attendance is above 95% by "
                    "July.", True),
        ("cin_plan", "Outcomes:\n- Ella will sleep in her own bed every night and feel safe at "
                     "bedtime.", True),
        ("cp_plan", "Desired outcomes:\n- The children have regular meals and a clean home.\n"
                    "- Amir is registered with a dentist.\n- Mum attends CGL weekly.", True),
        ("cp_plan", "Outcomes:\nRuby will no longer see or hear violence between her parents.",
         True),
        ("cin_plan", "Outcome: Children to be safe and well.", False),
        ("cp_plan", "Outcome: Emeka to engage with CGL.", False),
        ("cin_plan", "Outcomes: TBC", False),
        ("cp_plan", "Mum will engage with services and attend a parenting course.", False),
        ("cin_plan", "Outcomes:\nDad to stop drinking and work openly with professionals.",
         False),
        ("cp_plan", "What we want for Leo:\nLeo is a healthy weight and back on his centile "
                    "line by the summer.", True),
        ("cin_plan", "Tia and Ben feel safe at home and are not woken by arguments at night.",
         True),
        ("cin_plan", "Goals: mum to reduce her drinking.", False),
        ("cp_plan", "Outcome: improved home conditions.", False),
        gap("cin_plan", "Ruby is 7 and lives with her mum and two brothers in Hull.", False,
            "a description of the child is read as a desired outcome"),
    ],
    "actions": [
        ("cin_plan", "Actions:\n- SW to refer Kai to the school counsellor by 10 March.\n"
                     "- Mum to attend the Freedom Programme every Tuesday from 4 March.\n"
                     "- HV to weigh Isla fortnightly and send the weights to the SW.", True),
        ("cp_plan", "Action | Who | By when\nRefer mum to CGL | SW | 14/03\n"
                    "Book a dental check for Leo | Mum | 31/03", True),
        ("cin_plan", "The social worker will refer Ella to the young carers group by the end "
                     "of March. Mum will book Ella's eye test before half term.", True),
        ("cp_plan", "1. Referral to the Sleep Clinic for Jayden.\n2. Application for a "
                    "school place at Oak Lane Primary.\n3. Fit a stair gate by Friday.", True),
        ("cin_plan", "Actions: continue to monitor and offer support as needed.", False),
        ("cp_plan", "Actions: TBC", False),
        ("cin_plan", "- All professionals to continue to monitor.\n- Support to be offered as "
                     "appropriate.", False),
        ("cp_plan", "Actions:\n- Mum to engage with services.\n- Dad to work with "
                    "professionals.", False),
        ("cin_plan", "Outcome: Kai is happy and settled at school.", False),
        ("cp_plan", "- Mum to attend the Freedom Programme on Tuesdays from 4 March.\n- SW to "
                    "complete direct work sessions with Ruby weekly.", True),
        ("cp_plan", "- Support to continue.\n- Visits to continue as per statutory "
                    "requirements.", False),
        ("cin_plan", "Actions:\nTo be agreed at the core group.", False),
    ],
    "responsibilities": [
        ("cin_plan", "Actions:\n- SW to refer Kai to the school counsellor by 10 March.\n"
                     "- Mum to attend the Freedom Programme every Tuesday from 4 March.\n"
                     "- HV to weigh Isla fortnightly.", True),
        ("cp_plan", "Action | Who | By when\nRefer mum to CGL | SW | 14/03\n"
                    "Book a dental check for Leo | Mum | 31/03", True),
        ("cp_plan", "- SW to complete a safety plan with Ruby by 7 April.\n- School nurse to "
                    "see Ruby weekly from 1 April.\n- All professionals to continue to "
                    "monitor.", True),
        gap("cin_plan", "Who: Jo Hart (SW). Action: arrange the Early Help assessment. Who: "
                        "Mrs Khan (DSL). Action: set up a daily check-in.", True,
            "two owned actions on one line count as one row, below min_rows"),
        ("cin_plan", "- Referral to be made to CAMHS by 10 March.\n- Dental appointment to "
                     "be booked by 31 March.\n- Nursery place to be found before "
                     "September.", False),
        ("cp_plan", "Action | Who | By when\nRefer to CAMHS | | 10/03\n"
                    "Book a dental check | TBC | 31/03", False),
        ("cin_plan", "Responsibilities: TBC", False),
        ("cp_plan", "Outcome: Leo is in nursery every day.", False),
        ("cin_plan", "Action: Parenting course (Triple P) | Who: Mum | By: 30 April\n"
                     "Action: Housing application | Who: Housing officer (Mr Ellis) | By: "
                     "31 March", True),
        ("cp_plan", "- A referral will be made to CAMHS.\n- The family will be offered a "
                    "parenting course.", False),
        ("cin_plan", "- To attend all appointments.\n- To ensure the children attend school.",
         False),
    ],
    "timescales": [
        ("cin_plan", "- SW to refer Kai to the school counsellor by 10 March.\n"
                     "- Mum to book a GP appointment for Kai within two weeks.", True),
        ("cp_plan", "Action | Who | By when\nRefer mum to CGL | SW | 14/03/2025\n"
                    "Book a dental check for Leo | Mum | 31/03/2025", True),
        ("cin_plan", "- SW to complete the young carers referral within 10 working days.\n"
                     "- School to set up a reduced timetable before half term.", True),
        ("cp_plan", "- SW to visit weekly.\n- Mum to attend the parenting group "
                    "fortnightly.", False),
        ("cin_plan", "- SW to refer Kai to CAMHS - ongoing\n- Mum to book a dental check "
                     "- TBC", False),
        ("cp_plan", "Next review: 14/05/2025.", False),
        ("cin_plan", "Timescales: TBC", False),
        ("cp_plan", "Action | Who | By when\nRefer to CAMHS | SW | ongoing\n"
                    "Book a dental check | Mum | TBC", False),
        ("cin_plan", "Outcome: Kai is in school every day.", False),
        ("cin_plan", "- SW to refer to CAMHS: by 15/03/2025\n- Mum to see the GP: by "
                     "22/03/2025", True),
        ("cp_plan", "- SW to refer to CAMHS.\n- Mum to see the GP.\nReview: at the next core "
                    "group.", False),
    ],
    "contingency": [
        ("cin_plan", "Contingency: If mum misses two CGL appointments in a row, the SW will "
                     "convene a strategy discussion within 2 working days.", True),
        ("cp_plan", "Should Kai go missing again, school will ring the police and the SW the "
                    "same day.", True),
        ("oversight", "If Ella's attendance falls below 80% by half term, the case will be "
                      "escalated to legal planning.", True),
        ("cp_plan", "What happens if things do not improve:\nIf dad returns to the home, mum "
                    "will call 999 and the children will stay with their nan.", True),
        ("cin_plan", "Contingency: to be discussed at review.", False),
        ("cp_plan", "Contingency: see previous plan.", False),
        ("cin_plan", "Contingency: none agreed at this time.", False),
        ("cp_plan", "Contingency: next visit 12/04.", False),
        ("oversight", "Contingency: TBC", False),
        ("cin_plan", "No contingency plan was agreed at the meeting.", False),
        ("cp_plan", "If Leo's weight drops below the 2nd centile, the HV will tell the SW the "
                    "same day and a strategy discussion will be held.", True),
        ("cp_plan", "Contingency:\n\nOutcomes:\nKai goes to school.", False),
        ("cin_plan", "Contingency: the plan will be reviewed at the next CIN meeting.", False),
    ],
    "frequency": [
        ("supervision", "Date of supervision: 12/03/2025. Previous supervision: 13/02/2025.",
         True),
        ("supervision", "Supervision held on 4 June 2025; last supervision 7 May 2025, in line "
                        "with the monthly standard.", True),
        ("supervision", "Case supervision 02/09/2024 (previous supervision 05/08/2024).", True),
        ("supervision", "Supervision date: 12/03/2025.", False),
        ("supervision", "Previous supervision 10/12/2024. Date of this supervision "
                        "14/03/2025.", False),
        ("supervision", "Supervision is overdue; the last one was in January.", False),
        ("supervision", "Monthly supervision in line with policy.", False),
        ("supervision", "Previous supervision: 10/02/2025", False),
        ("supervision", "Supervision 03/04/2025. Last supervision 06/03/2025 (4 weeks ago).",
         True),
        ("supervision", "Date: 15 January 2025\nPrevious supervision: 18 December 2024", True),
        ("supervision", "First supervision on this case in three months; previous supervision "
                        "02/01/2025, this one 07/04/2025.", False),
    ],
    "progress_update": [
        ("supervision", "Actions from last supervision:\n1. Refer Kai to CAMHS - done 20/02.\n"
                        "2. Book core group - not done, carried forward.", True),
        ("supervision", "Review of previous actions: the school meeting took place on 3 March; "
                        "the Freedom Programme referral is still outstanding because mum "
                        "cancelled twice.", True),
        ("supervision", "Since the last supervision the SW has completed the chronology and "
                        "the dental appointment has been booked.", True),
        ("supervision", "Previous actions: N/A", False),
        ("supervision", "Family news: mum has started a new job and the children went to Wales "
                        "at half term.", False),
        ("supervision", "Actions from the last supervision were not reviewed due to time.",
         False),
        ("supervision", "Previous actions to be reviewed next time.", False),
        ("supervision", "Previous actions:\n- CAMHS referral - completed 14/02\n- Dental "
                        "check - still outstanding, mum has rebooked for 3 March", True),
        gap("supervision", "The SW did not have time to go through the actions from the last "
                           "supervision.", False,
            "the negation is more than six words before the cue"),
    ],
    "plan_progress": [
        ("supervision", "Progress against the CP plan: two of the four outcomes have been met. "
                        "Kai is now in school every day, but mum has not started the Freedom "
                        "Programme.", True),
        ("supervision", "The CIN plan is working: Leo's weight is back on the 25th centile and "
                        "the HV reports mum is following the feeding plan.", True),
        ("supervision", "Core group on 3 March noted good progress with home conditions but no "
                        "progress on Ella's attendance.", True),
        ("supervision", "Update on plan: ongoing.", False),
        ("supervision", "Family news: mum has started a new job and the children went to Wales "
                        "at half term.", False),
        ("supervision", "Plan progress: N/A", False),
        ("supervision", "Progress of the plan to be discussed at the next supervision.", False),
        ("supervision", "Little progress on the CIN plan: Ella's attendance is still 70% and "
                        "mum has not started the parenting course.", True),
        gap("supervision", "Outcome 2 has been achieved: Leo now sleeps in his own bed every "
                           "night.", True,
            "'Outcome 2 has been achieved:' is read as a heading and no longer matched"),
        ("supervision", "Plan progress: ongoing.", False),
        ("supervision", "Mum said she has been really busy with work and dad has a new "
                        "partner.", False),
    ],
    "reflection": [
        ("supervision", "We explored whether mum's agreement might be disguised compliance, as "
                        "she agrees to everything but little changes for Kai.", True),
        ("supervision", "Jess said she feels stuck and frustrated with this family.", True),
        ("supervision", "Hypothesis: Leo's behaviour at school may be a way of showing his "
                        "anxiety about dad coming home.", True),
        ("supervision", "Reflection: the worker wondered what a day in Ava's life looks like "
                        "when mum is drinking, and whether we have been too optimistic.", True),
        ("supervision", "Reflection: discussed.", False),
        ("supervision", "Reflection: N/A", False),
        ("supervision", "Reflective discussion held.", False),
        ("supervision", "Reflection: -", False),
        ("supervision", "We wondered whether Tom's anger at school might be linked to missing "
                        "his dad since the separation.", True),
        ("supervision", "Sam said she felt intimidated by dad at the last visit.", True),
        ("supervision", "Reflection: we talked about the case.", False),
        ("supervision", "Discussion: update given.", False),
    ],
    "challenge": [
        ("supervision", "I challenged why the CAMHS referral has still not been made after six "
                        "weeks; it must be done by Friday.", True),
        ("supervision", "Manager questioned whether the CIN plan is drifting, as nothing has "
                        "changed for Ella in four months.", True),
        ("supervision", "Why has the core group not met since January? This is not acceptable "
                        "and the SW is to convene one within 10 days.", True),
        ("supervision", "TM thanked Sam for her hard work with this family.", False),
        ("supervision", "Manager was supportive and recognised how complex the case is.",
         False),
        ("supervision", "The review date was brought forward to 14 March.", False),
        ("supervision", "Management challenge: N/A", False),
        ("supervision", "I am not satisfied that the plan has made a difference for Ella; the "
                        "CAMHS referral must be made this week.", True),
        ("supervision", "This case has been open for 18 months with no change for the "
                        "children; we cannot continue like this.", True),
        ("supervision", "Manager agreed with the SW's plan.", False),
        ("supervision", "Well done to Sam for getting the children into school; the plan is "
                        "working.", False),
    ],
    "decisions": [
        ("supervision", "Decisions:\n1. SW to refer Kai to CAMHS by 14 March.\n2. TM to chair "
                        "a legal planning meeting on 21 March.", True),
        ("supervision", "It was agreed that Ella's case will step down to early help at the "
                        "review on 2 April.", True),
        ("supervision", "Decision: the CIN plan continues for three months and mum is offered "
                        "the Triple P course starting 10 April.", True),
        ("supervision", "Actions as discussed.", False),
        ("supervision", "Ran out of time before agreeing next steps.", False),
        ("supervision", "Decisions:\n- continue to monitor.", False),
        ("supervision", "Decisions: TBC", False),
        ("supervision", "No decisions were made in this session.", False),
        ("supervision", "We decided that Kai will stay with his aunt until the parenting "
                        "assessment is complete.", True),
        ("supervision", "Decisions: as discussed.", False),
        ("supervision", "Agreed: SW to request a legal planning meeting by 20/05.", True),
        ("supervision", "Next steps: to be agreed at the next supervision.", False),
        ("supervision", "Actions from last supervision:\n1. Refer Ella to the Young Carers "
                        "Group - done 20/02.", False),
    ],
    "issue": [
        ("oversight", "Issue: Kai (14) has gone missing three times since January and was found "
                      "by police in Birmingham with older males on 2 March.", True),
        ("oversight", "The issue for Ella is that her attendance has fallen to 62% this term "
                      "and she told her teacher she stays home to look after mum.", True),
        ("oversight", "What is happening for Ruby: she disclosed to her teacher on 3 May that "
                      "dad hit her with a belt, and a bruise was seen on her thigh.", True),
        ("oversight", "Reason for oversight: transfer in from the assessment team.", False),
        ("oversight", "Issue: mum has asked for the plan to end.", False),
        ("oversight", "Issue: CCE concerns.", False),
        ("oversight", "Issue: TBC", False),
        ("oversight", "The key concern for Mason is that he was found in a flat with adults "
                      "using drugs on 14 February and has been excluded twice this term.", True),
        ("oversight", "Concerns: Leah (15) disclosed self-harm to the school nurse on 2 April "
                      "and has cuts to both arms.", True),
        ("oversight", "Issue: case transferred from the north team.", False),
        ("oversight", "Issue: neglect.", False),
    ],
    "options": [
        ("oversight", "Options considered: (a) continue the CIN plan; (b) step up to a child "
                      "protection conference; (c) step down to early help.", True),
        ("oversight", "I considered whether Leo could return home now, or stay with his aunt "
                      "for a further month while dad completes the programme.", True),
        ("oversight", "Option 1: Ella stays with her grandparents under a kinship "
                      "arrangement.\nOption 2: Ella returns home with daily support.", True),
        ("oversight", "Options: N/A", False),
        ("oversight", "No other options were considered.", False),
        ("oversight", "Options:\nnone\nDecision:\nClose.", False),
        ("oversight", "Alternatively, the case could step down to early help with a family "
                      "support worker.", True),
        ("oversight", "Options: there are no other options at this stage.", False),
        ("oversight", "Options considered: see above.", False),
        ("oversight", "Decision: case to close.", False),
    ],
    "research": [
        ("oversight", "Research on the toxic trio tells us that children living with domestic "
                      "abuse, parental mental ill health and substance misuse face a much "
                      "higher risk of harm.", True),
        ("oversight", "In my experience, teenagers who go missing repeatedly are drawn into "
                      "criminal exploitation quickly, and early disruption work reduces this.",
         True),
        ("oversight", "Learning from safeguarding practice reviews shows that a non-mobile "
                      "baby with a bruise must see a paediatrician the same day.", True),
        ("oversight", "Messages from research tell us that babies under one are the most "
                      "vulnerable to non-accidental injury.", True),
        ("oversight", "Research: N/A", False),
        ("oversight", "Given mum's progress over the last six months, I think Leo can safely "
                      "return home.", False),
        ("oversight", "Research to be considered at the next review.", False),
        ("oversight", "No research was consulted for this decision.", False),
        gap("oversight", "What research tells us: children who live with domestic abuse are "
                         "more likely to do less well at school.", True,
            "a finding under a 'What research tells us' heading has no cue of its own"),
        ("oversight", "I have not considered research for this decision.", False),
        ("oversight", "Research: mum has made good progress this year.", False),
    ],
    "evidence_weighed": [
        ("oversight", "On balance, the risks of Leo returning home now outweigh the benefits "
                      "because dad has only just started the programme.", True),
        ("oversight", "Having weighed the school's evidence of better attendance against the "
                      "two police call-outs in May, I have decided to continue the CP plan.",
         True),
        ("oversight", "Rationale: the decision is made because the GP and school both confirm "
                      "Ella's needs are now met and mum has sustained the changes.", True),
        ("oversight", "Decision: step down to CIN.", False),
        ("oversight", "Decision: case to close.", False),
        ("oversight", "Evidence weighed: N/A", False),
        ("oversight", "Evidence was not weighed as the decision was made at panel.", False),
        ("oversight", "The evidence suggests that dad has sustained change, as his last six "
                      "tests were clear and school report Ella is happier.", True),
        ("oversight", "Decision: ICPC.", False),
        ("oversight", "Evidence weighed:\nTBC\nDecision:\nCIN.", False),
        gap("oversight", "Rationale: decision made by the service manager.", False,
            "any 10 characters after the heading 'Rationale' count as a rationale"),
    ],
    "expected_impact": [
        ("oversight", "We expect Kai to be attending school full time by half term.", True),
        ("oversight", "Impact for the child: Ella will feel safe at home and sleep through the "
                      "night within the next six weeks.", True),
        ("oversight", "Success will look like Ruby having no missing episodes over the next "
                      "three months.", True),
        ("oversight", "Expected impact: positive outcomes.", False),
        ("oversight", "Impact: TBC", False),
        ("oversight", "This should lead to positive outcomes for the family.", False),
        ("oversight", "We expect things to improve for the children.", False),
        ("oversight", "Impact: Ella should be attending school every day within four "
                      "weeks.", True),
        ("oversight", "Expected impact: things will get better for the children.", False),
    ],
    "review_date": [
        ("oversight", "Review date: 14/05/2025", True),
        ("oversight", "This decision will be reviewed in six weeks at the CIN review.", True),
        ("oversight", "I will review progress at the next supervision on 3 June.", True),
        ("oversight", "Review: in due course.", False),
        ("oversight", "Review date: TBC.", False),
        ("oversight", "To be reviewed when appropriate.", False),
        ("oversight", "The last review was held in the spring.", False),
        ("oversight", "Review: 2 weeks.", True),
        ("oversight", "I will look again at this in one month.", True),
        ("oversight", "Review date: to be arranged.", False),
        ("oversight", "Next review: when the assessment is complete.", False),
    ],
    "vague_goal": [
        ("cin_plan", "SW to continue to monitor.", True),
        ("cp_plan", "Mum to engage with services.", True),
        ("oversight", "Appropriate monitoring and support to be provided.", True),
        ("visit", "Support will be offered as needed.", True),
        ("supervision", "Family to engage with CAMHS.", True),
        ("assessment", "Recommend the children are kept safe and well.", True),
        ("cp_enquiry", "Professionals to remain vigilant and share information.", True),
        ("cp_plan", "Outcome 1: Kai is in school every day by 1 May (SW to check weekly with "
                    "Mrs Khan).\nOutcome 2: Mum to engage with services.", True),
        ("cin_plan", "Mum to attend the Sensory Support Service appointment with Kai on "
                     "12 March.", False),
        ("cp_plan", "HV to weigh Isla fortnightly from 3 March and send the weights to the SW.",
         False),
        ("cin_plan", "Dad to attend his CGL key-work session every Tuesday and give clear drug "
                     "tests.", False),
        ("visit", "Kai is in school every day and his attendance is above 95%.", False),
        ("supervision", "SW to refer Leo to the Sleep Clinic by 14 March.", False),
        ("cp_plan", "Kai to be supported appropriately at school.", True),
        ("cin_plan", "Mum to access support offered.", True),
        ("oversight", "Improve outcomes for the children.", True),
        ("supervision", "Keep under review.", True),
        ("cin_plan", "Mum to attend the 'Supporting your child who self-harms' course on "
                     "Tuesdays from 4 March.", False),
        ("cp_plan", "Leo to be weighed by the HV every Monday and the weight recorded on his "
                    "chart.", False),
        ("visit", "I will visit Kai every two weeks at school until the review on 14 May.",
         False),
        gap("visit", "Mum said Maisie is happy at nursery and has made friends.", False,
            "a reported description ('Maisie is happy') matches the generic_aim cue"),
    ],
}


def _rows() -> list[Any]:
    out = []
    for marker, rows in CASES.items():
        for i, row in enumerate(rows):
            if isinstance(row, Gap):
                out.append(pytest.param(
                    marker, row.doc_type, row.text, row.expected, id=f"{marker}-{i}",
                    marks=pytest.mark.xfail(strict=True, reason=f"rule gap: {row.reason}")))
            else:
                out.append(pytest.param(marker, *row, id=f"{marker}-{i}"))
    return out


def _expected(row: Row) -> bool:
    return row.expected if isinstance(row, Gap) else row[2]


def test_every_marker_has_a_table() -> None:
    assert set(CASES) == set(load_rubric().markers)


@pytest.mark.parametrize("marker", sorted(CASES))
def test_table_has_positives_and_negatives(marker: str) -> None:
    expected = [_expected(r) for r in CASES[marker]]
    assert expected.count(True) >= 3 and expected.count(False) >= 3


def test_xfails_are_few() -> None:
    rows = [r for rs in CASES.values() for r in rs]
    gaps = [r for r in rows if isinstance(r, Gap)]
    assert len(gaps) <= 0.15 * len(rows)


@pytest.mark.parametrize(("marker", "doc_type", "text", "expected"), _rows())
def test_marker(screener: Screener, marker: str, doc_type: str, text: str,
                expected: bool) -> None:
    result = screener.screen_one(doc_type, text).markers[marker]
    assert result.present is expected, [(e.source, e.text) for e in result.evidence]
    if expected:
        assert result.evidence, "a present marker needs evidence"
        assert result.probability >= 0.5
    else:
        assert result.probability < 0.5
    for ev in result.evidence:
        assert 0 <= ev.start < ev.end <= len(text)
        assert text[ev.start:ev.end] == ev.text
        assert ev.source.startswith(f"rule:{marker}.")
        if ev.sentence is not None:
            assert ev.sentence in text
