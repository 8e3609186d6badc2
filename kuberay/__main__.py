from kuberay.cli import main

raise SystemExit(main())
