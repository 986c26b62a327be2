from lakectl.cli.main import main

main()
