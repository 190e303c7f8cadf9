from course_media_ops.cli import main

main()
