"""Training evidence: sessions, attendance, enrolments, exams, and credentials held from outside.

``models`` holds the tables; ``service`` records and voids them; ``hours`` weighs them (credited
hours under the daily cap, completion, the exam that qualifies, a skill certificate standing for
the hours); ``standing`` says who has a relation to a worker; ``credentials`` records skill
certificates and national licences; ``schemas`` and ``views`` are the API.
Must not: raise findings (the rules in ``verify.rules`` do, told through ``training.signals``);
edit a record to correct it (a mistaken one is voided and recorded again).
"""
