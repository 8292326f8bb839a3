"""What instructors learn from students' questions: the opt-in question log and the insight page.

An edge layer like ``assistant.web``: the core never imports it. Nothing here runs, and nothing
is written anywhere, unless ``ASSISTANT_QUESTION_LOG`` names a database.
"""
