// Type-aware lint: @pulumi/eslint-plugin's rules need type information to spot Outputs in
// template literals (they would render as "Calling [toString] on an [Output<T>]...").
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/**", "policies/node_modules/**", "out/**", "tools/**", "policies/bin/**"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
            "@typescript-eslint/no-floating-promises": "error",
        },
    },
    // node:test's describe/it return promises the runner itself awaits.
    { files: ["test/**/*.ts"], rules: { "@typescript-eslint/no-floating-promises": "off" } },
    { files: ["**/*.mjs"], languageOptions: { globals: { console: "readonly" } } },
);
