"""LTI 1.3: the assistant as a tool an LMS (Canvas, Moodle, Open edX, ...) adds to a course.

An edge layer like ``assistant.web``: it may use the core, the core never imports it. Its
routes exist only when ``ASSISTANT_LTI_CONFIG`` names a configuration file (see ``routes``).
"""
