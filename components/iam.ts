/** AWS IAM policy documents (key policies, identity policies, bucket policies) as plain data: one type for every area. */

export interface IamStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Principal?: string | Record<string, string>;
    Action: string | string[];
    /** Absent in a trust policy. */
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string>>;
}

export interface IamPolicy {
    Version: "2012-10-17";
    Statement: IamStatement[];
}
