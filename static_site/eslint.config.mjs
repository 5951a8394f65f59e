// ESLint for the page's own scripts (`make lint` runs `npm run lint` here). A development tool
// only: the site serves js/, css/, vendor/ and the presets, never this file or node_modules.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["vendor/", "node_modules/"] },
  js.configs.recommended,
  {
    files: ["js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
    rules: {
      // Mistakes that run without an error but do the wrong thing.
      eqeqeq: ["error", "always"],
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "all", argsIgnorePattern: "^_" }],
      "no-use-before-define": ["error", { functions: false, classes: true, variables: false }],
      "no-shadow": ["error", { builtinGlobals: false }],
      "no-implicit-coercion": ["error", { allow: ["!!"] }],
      "no-promise-executor-return": "error",
      "no-self-compare": "error",
      "no-template-curly-in-string": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      "array-callback-return": "error",
      "no-constructor-return": "error",
      "no-return-assign": "error",
      "no-sequences": "error",
      "no-throw-literal": "error",
      "prefer-promise-reject-errors": "error",
      "no-new-wrappers": "error",
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      // The modules stay small and their state their own.
      "prefer-const": "error",
      "no-var": "error",
      "no-param-reassign": ["error", { props: false }],
      "no-console": "error",
      "max-lines": ["error", { max: 300, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: ["eslint.config.mjs"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
