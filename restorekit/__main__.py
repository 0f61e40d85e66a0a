from restorekit.cli.main import main

main()
