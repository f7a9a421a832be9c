"""Classroom labs: trainers' lab templates, classrooms made from them, one seat per student.

lab_templates.py  what a seat is made from (and the instructions students read)
classrooms.py     classrooms: create, provision every seat, end, broadcast a command
roster.py         seats from a pasted roster (accounts with one-time passwords)
seats.py          one seat: claim by join code, provision, reset
access.py         who may see which classroom or seat
schedule.py       periodic work: warm classes at their time, end them, delete after grace
"""
