"""``python -m course_room``: the instructor's view, as the hub starts it (course_room.config)."""
from .view import main

main()
