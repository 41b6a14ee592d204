from personal_memory.cli import main

main()
