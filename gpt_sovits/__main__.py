from gpt_sovits.cli import main

raise SystemExit(main())
