from gristmill.train.cli import main

main()
